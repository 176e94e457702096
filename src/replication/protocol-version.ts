/** An inclusive range of protocol versions a node speaks. */
export interface ProtocolRange {
  readonly min: number;
  readonly max: number;
}

export const formatRange = (r: ProtocolRange): string => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`);

/** The highest version both ranges contain, or undefined when they are disjoint. */
export function negotiateProtocol(ours: ProtocolRange, theirs: ProtocolRange): number | undefined {
  const high = Math.min(ours.max, theirs.max);
  const low = Math.max(ours.min, theirs.min);
  return high >= low ? high : undefined;
}
