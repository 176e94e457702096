/** CPU this process used since `before` (a process.cpuUsage()), as % of one core over `elapsedMs`. */
export function cpuPercentSince(before, elapsedMs) {
  const used = process.cpuUsage(before);
  return ((used.user + used.system) / 1000 / elapsedMs) * 100;
}
