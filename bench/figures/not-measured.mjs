// Figures 2, 3 and 5: they need capabilities that do not exist yet
// (handoff, failover with leases and epochs, the upgrade command). They
// stay "not measured", with the reason, until the capability lands; then
// each gets a module of its own beside apply-throughput.mjs.
import { figureRow, notMeasured } from '../report/figure-row.mjs';

export function notMeasuredRows() {
  return [
    figureRow({
      figure: '2', id: 'handoff.pause', name: 'Planned handoff pause', unit: 'ms', better: 'lower',
      baton: notMeasured('planned handoff not implemented yet'),
      goal: 'a few round trips, independent of the number of sessions',
    }),
    figureRow({
      figure: '3', id: 'failover.time', name: 'Failover time', unit: 'ms', better: 'lower',
      baton: notMeasured('failover (leases, epoch bump, takeover) not implemented yet'),
    }),
    figureRow({
      figure: '5', id: 'upgrade.roll', name: 'Rolling upgrade under load', unit: 'ms', better: 'lower',
      baton: notMeasured('baton upgrade not implemented yet'),
      goal: 'no acknowledged operation lost',
    }),
  ];
}
