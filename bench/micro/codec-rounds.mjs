// Times Baton's serializers or deserializers against @grpc/proto-loader's
// own in the same rounds (serialize.mjs, deserialize.mjs).

/** Microseconds per call of `fn(input)` over `count` calls; throws when the calls produced nothing. */
export function usPerCall(fn, input, count) {
  let produced = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const out = fn(input);
    produced += Buffer.isBuffer(out) ? out.length : out === undefined ? 0 : 1;
  }
  if (produced === 0) throw new Error('nothing produced');
  return Number(process.hrtime.bigint() - started) / count / 1000;
}

/**
 * Warms every case up, then prints three rounds, each timing every case's
 * `direct` against its `original` (`baseline` names what that does), plus
 * what `extra()` returns. Cases are [name, original, direct, input].
 */
export function compareRounds(cases, { count, baseline, extra = () => [] }) {
  for (const [, original, direct, input] of cases) {
    usPerCall(original, input, count);
    usPerCall(direct, input, count);
  }
  for (let round = 1; round <= 3; round++) {
    const parts = cases.map(([name, original, direct, input]) => {
      const theirs = usPerCall(original, input, count);
      const ours = usPerCall(direct, input, count);
      return `${name}: direct ${ours.toFixed(1)} us, ${baseline} ${theirs.toFixed(1)} us, ${(theirs / ours).toFixed(2)}x faster`;
    });
    console.log(`round ${round}: ${[...parts, ...extra()].join('; ')}`);
  }
}
