// Writes a run's results: bench/results/latest.json and a timestamped copy
// (bench/results/ is git-ignored). A run of some figures only (--figures)
// writes its timestamped file alone, so latest.json stays a whole run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MEASURABLE_FIGURES } from '../bench-options.mjs';
import { RESULTS_DIR } from '../harness/paths.mjs';

/** Returns the paths written. */
export function writeResults(results) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = results.machine.date.replace(/[:.]/g, '-');
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const { mode, figures } = results.settings;
  const partial = figures !== undefined && !MEASURABLE_FIGURES.every((f) => figures.includes(f));
  const own = join(RESULTS_DIR, `${stamp}-${mode}${partial ? `-figures-${figures.join('-')}` : ''}.json`);
  const paths = partial ? [own] : [join(RESULTS_DIR, 'latest.json'), own];
  for (const path of paths) writeFileSync(path, text);
  return paths;
}
