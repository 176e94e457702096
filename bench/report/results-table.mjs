// The table printed at the end of a run: each figure beside its baseline
// from the same run, and their ratio.

function number(value, unit) {
  if (!Number.isFinite(value)) return '?';
  const decimals = unit === 'ms' && Math.abs(value) < 100 ? 2 : Math.abs(value) < 10 ? 1 : 0;
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function cell(side, unit) {
  if (side === null) return '';
  if (side.status !== 'measured') return 'not measured';
  const range = side.rounds.length > 1 ? ` [${number(side.min, unit)}-${number(side.max, unit)}]` : '';
  return `${number(side.median, unit)}${range}`;
}

function ratioCell(ratio) {
  if (ratio === null) return '';
  const fmt = (v) => `${v.toFixed(2)}x`;
  return ratio.min === undefined ? fmt(ratio.median) : `${fmt(ratio.median)} [${ratio.min.toFixed(2)}-${ratio.max.toFixed(2)}]`;
}

function goalCell(row) {
  if (row.goal === null) return '';
  const verdict = row.goalMet === true ? 'met' : row.goalMet === false ? 'NOT met' : '';
  return verdict === '' ? row.goal : `${row.goal}: ${verdict}`;
}

function layout(lines) {
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}

/** The table and its notes, as lines of text. */
/** What each measured figure is compared with, for the notes. */
function baselines(rows) {
  const named = (id) => rows.find((r) => r.id === id)?.baselineName;
  const out = [];
  if (named('apply.off.peak') !== undefined) out.push(`figure 1, ${named('apply.off.peak')} (same SDK and sessions; operations in flight as the peak notes say)`);
  if (named('bootstrap.time') !== undefined) out.push(`figure 4, ${named('bootstrap.time')}`);
  if (rows.some((r) => r.figure === '6' && r.baton.status === 'measured')) out.push("figure 6, the state's own size");
  return out;
}

export function resultsTable(results) {
  const { machine, settings, rows } = results;
  const header = ['#', 'Figure', 'Unit', 'Baton', 'Baseline', 'Baton/baseline', 'Goal'];
  const body = rows.map((row) => [
    row.figure,
    row.name,
    `${row.unit}${row.better === 'higher' ? ' (+)' : row.better === 'lower' ? ' (-)' : ''}`,
    cell(row.baton, row.unit),
    cell(row.baseline, row.unit),
    ratioCell(row.ratio),
    goalCell(row),
  ]);
  const out = [
    `Baton benchmark, ${settings.mode} mode, ${machine.date}: ${machine.nproc} CPUs (${machine.cpuModel}), Node ${machine.node}, load average ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')} at start`,
    `Median of ${settings.rounds} rounds [min-max]; (+) higher is better, (-) lower is better; Baton/baseline = ratio of the same run (per interleaved round pair when given a range).`,
    '',
    ...layout([header, ...body]),
    '',
    'Not measured:',
    ...rows.filter((r) => r.baton.status !== 'measured').map((r) => `  ${r.figure} ${r.name}: ${r.baton.reason}`),
    '',
    'Notes:',
    ...rows.filter((r) => r.note !== undefined).map((r) => `  ${r.figure} ${r.name}: ${r.note}`),
    `  Baselines: ${baselines(rows).join('; ')}.`,
  ];
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const peaks = rows.filter((r) => /^apply\.\w+\.peak$/.test(r.id) && r.baton.status === 'measured');
  if (peaks.length > 0) {
    out.push('  CPU in the peak rounds (median, 100% = one core; server = the daemons + redis-server, or the baseline server + redis-server):');
    for (const r of peaks) out.push(`    ${r.name}: server ${median(r.baton.serverCpuPercent)}%, its load worker ${median(r.baton.loadCpuPercent)}%`);
    const base = peaks[0].baseline;
    out.push(`    Redis baseline: server ${median(base.serverCpuPercent)}%, its load worker ${median(base.loadCpuPercent)}%`);
  }
  const troubles = rows.filter((r) => (r.baton.errors ?? 0) + (r.baseline?.errors ?? 0) + (r.baton.dropped ?? 0) + (r.baseline?.dropped ?? 0) > 0);
  for (const r of troubles) {
    out.push(`  WARNING ${r.name}: errors Baton ${r.baton.errors}, baseline ${r.baseline?.errors}; dropped Baton ${r.baton.dropped ?? 0}, baseline ${r.baseline?.dropped ?? 0}`);
  }
  return out;
}
