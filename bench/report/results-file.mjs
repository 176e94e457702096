// Writes a run's results: bench/results/latest.json and a timestamped copy
// (bench/results/ is git-ignored).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from '../harness/paths.mjs';

/** Returns the paths written. */
export function writeResults(results) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = results.machine.date.replace(/[:.]/g, '-');
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const paths = [join(RESULTS_DIR, 'latest.json'), join(RESULTS_DIR, `${stamp}-${results.settings.mode}.json`)];
  for (const path of paths) writeFileSync(path, text);
  return paths;
}
