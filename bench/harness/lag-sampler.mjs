// Samples an owner's replication lag (what its replica has not acknowledged)
// while a load runs, through ControlService.Status over gRPC in-process, so
// sampling spawns nothing that would compete with the measured system.
import { credentials } from '@grpc/grpc-js';
import { loadBatonProto } from '../../dist/rpc/proto-loader.js';

const SAMPLE_EVERY_MS = 100;

export class LagSampler {
  #client;
  #timer;
  #samples = [];

  constructor(controlAddress) {
    const proto = loadBatonProto();
    this.#client = new proto.baton.v1.ControlService(controlAddress, credentials.createInsecure());
    this.#timer = setInterval(() => {
      this.#client.Status({}, { deadline: Date.now() + 1_000 }, (err, status) => {
        if (!err && status?.replication) {
          this.#samples.push({ records: Number(status.replication.lagRecords), ms: Number(status.replication.lagMs) });
        }
      });
    }, SAMPLE_EVERY_MS);
  }

  /** Stops sampling; resolves with { samples, records: {median, max}, ms: {median, max} }. */
  stop() {
    clearInterval(this.#timer);
    this.#client.close();
    const pick = (key) => {
      const values = this.#samples.map((s) => s[key]).sort((a, b) => a - b);
      if (values.length === 0) return { median: Number.NaN, max: Number.NaN };
      return { median: values[values.length >> 1], max: values[values.length - 1] };
    };
    return { samples: this.#samples.length, records: pick('records'), ms: pick('ms') };
  }
}
