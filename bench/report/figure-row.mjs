// One row of the results: a figure for Baton beside its baseline measured
// in the same run, or the reason it is not measured yet. Every row has the
// same shape in latest.json and in the printed table.
import { spread } from './spread.mjs';

/** A measured value: its rounds, median and spread. */
export function measured(values, extra = {}) {
  return { status: 'measured', ...spread(values), ...extra };
}

/** A figure that cannot be measured yet, and why. Never a number. */
export function notMeasured(reason) {
  return { status: 'not measured', reason };
}

/**
 * Baton ÷ baseline. When both sides were measured in interleaved rounds the
 * per-round ratios give the spread; otherwise only the ratio of medians.
 */
function ratioOf(baton, baseline, paired) {
  if (baton?.status !== 'measured' || baseline?.status !== 'measured') return null;
  if (paired && baton.rounds.length === baseline.rounds.length) {
    return { ...spread(baton.rounds.map((v, i) => v / baseline.rounds[i])), of: 'per round pair' };
  }
  return { median: baton.median / baseline.median, of: 'medians' };
}

/**
 * @param {object} fields
 * @param {string} fields.id        stable key, e.g. "apply.off.peak"
 * @param {string} fields.figure    the figure number, e.g. "1"
 * @param {string} fields.name      what is measured
 * @param {string} fields.unit      e.g. "ops/s", "ms", "bytes"
 * @param {'higher'|'lower'|null} fields.better
 * @param {object} fields.baton     measured(...) or notMeasured(...)
 * @param {object|null} fields.baseline  measured(...), notMeasured(...) or null when there is none
 * @param {string|null} fields.baselineName
 * @param {string|null} fields.goal human-readable goal
 * @param {(row) => boolean|null} [fields.goalCheck] whether the goal is met, null when it does not apply yet
 * @param {boolean} [fields.paired] rounds of baton and baseline were interleaved pairs
 * @param {string} [fields.note]
 */
export function figureRow({ id, figure, name, unit, better, baton, baseline = null, baselineName = null, goal = null, goalCheck, paired = false, note }) {
  const row = { id, figure, name, unit, better, baton, baseline, baselineName, ratio: ratioOf(baton, baseline, paired), goal, note };
  row.goalMet = goalCheck === undefined || baton.status !== 'measured' ? null : goalCheck(row);
  return row;
}
