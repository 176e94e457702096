// A counter session: the smallest useful handler, used by Baton's tests.
//
// params:  { "start"?: number }
// ops:     { "type": "add", "by"?: number }           -> { "value" }
//          { "type": "get" }                          -> { "value" }
//          { "type": "schedule", "timerId": string, "inMs"?: number, "atMs"?: number, "by"?: number }
//                 sets a timer that adds `by` (default 1) when it fires
//          { "type": "cancel", "timerId": string }    -> { "cancelled": boolean }
//          { "type": "pad", "bytes": number }         -> grows the state by that many bytes
//          { "type": "reject" }                       -> refused with code COUNTER_REJECTED
//          { "type": "crash" }                        -> the handler throws (a bug, for tests)
// state:   { "value": number, "fired": string[], "pad"?: string }

function reject(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

/** @type {import('baton').SessionHandler} */
export default {
  name: 'counter',
  schemaVersion: 1,

  init(params) {
    const start = params?.start ?? 0;
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      throw reject('INVALID_PARAMS', 'params.start must be a finite number');
    }
    return { value: start, fired: [] };
  },

  apply(state, op, ctx) {
    if (typeof op !== 'object' || op === null || typeof op.type !== 'string') {
      throw reject('INVALID_OPERATION', 'an operation is an object with a string "type"');
    }
    switch (op.type) {
      case 'add': {
        const by = op.by ?? 1;
        if (typeof by !== 'number' || !Number.isFinite(by)) throw reject('INVALID_OPERATION', '"by" must be a finite number');
        state.value += by;
        if (ctx.timer) state.fired.push(ctx.timer.timerId);
        return { state, reply: { value: state.value } };
      }
      case 'get':
        return { state, reply: { value: state.value } };
      case 'schedule': {
        if (typeof op.timerId !== 'string' || op.timerId === '') throw reject('INVALID_OPERATION', '"timerId" must be a non-empty string');
        const at = typeof op.atMs === 'number' ? op.atMs : ctx.nowMs + (op.inMs ?? 0);
        ctx.setTimer(op.timerId, at, { type: 'add', by: op.by ?? 1 });
        return { state, reply: { timerId: op.timerId, deadlineMs: at } };
      }
      case 'cancel':
        return { state, reply: { cancelled: ctx.cancelTimer(op.timerId) } };
      case 'pad':
        state.pad = 'x'.repeat(op.bytes);
        return { state, reply: { padded: op.bytes } };
      case 'reject':
        throw reject('COUNTER_REJECTED', 'this operation is always refused');
      case 'crash':
        return op.missing.field;
      default:
        throw reject('UNKNOWN_OPERATION', `unknown operation type "${op.type}"; expected add, get, schedule, cancel, pad or reject`);
    }
  },

  migrate(state) {
    return state;
  },
};
