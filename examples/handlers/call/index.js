// A phone-call session, the kind of long-lived state Baton exists for.
//
//   ringing --answer--> answered --hold--> held --resume--> answered
//      |                   |                 |
//      +--(ring timeout)---+--hangup---------+--> ended
//                          +--(max duration)-----> ended
//
// params:  { "from": string, "to": string, "ringTimeoutMs"?: number (default 30000),
//            "maxDurationMs"?: number (default 4 h) }
// ops:     { "type": "answer" } | { "type": "hold" } | { "type": "resume" }
//          { "type": "hangup", "by"?: string }
// timers:  "ring-timeout" (set at open, cancelled by answer) ends the call as "no-answer";
//          "max-duration" (set at answer) ends it as "max-duration".
// An operation that does not fit the current state is refused with code
// INVALID_TRANSITION and the state is left as it was.

const DEFAULT_RING_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_DURATION_MS = 4 * 60 * 60 * 1000;

const TRANSITIONS = {
  answer: ['ringing'],
  hold: ['answered'],
  resume: ['held'],
  hangup: ['ringing', 'answered', 'held'],
};

function refuse(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

function positive(value, fallback, name) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw refuse('INVALID_PARAMS', `${name} must be a positive number of milliseconds`);
  }
  return value;
}

function end(state, ctx, reason, by) {
  for (const t of ctx.timers()) ctx.cancelTimer(t.timerId);
  if (state.status === 'held') state.heldMs += ctx.nowMs - state.heldSinceMs;
  state.status = 'ended';
  state.endReason = reason;
  state.endedBy = by ?? null;
  state.endedAtMs = ctx.nowMs;
  state.talkMs = state.answeredAtMs === null ? 0 : ctx.nowMs - state.answeredAtMs - state.heldMs;
  delete state.heldSinceMs;
  return { state, reply: { status: 'ended', reason, talkMs: state.talkMs } };
}

/** @type {import('baton').SessionHandler} */
export default {
  name: 'call',
  schemaVersion: 1,

  init(params, ctx) {
    if (typeof params !== 'object' || params === null) {
      throw refuse('INVALID_PARAMS', 'params must be an object like {"from":"alice","to":"bob"}');
    }
    for (const field of ['from', 'to']) {
      if (typeof params[field] !== 'string' || params[field] === '') {
        throw refuse('INVALID_PARAMS', `params.${field} must be a non-empty string`);
      }
    }
    const ringTimeoutMs = positive(params.ringTimeoutMs, DEFAULT_RING_TIMEOUT_MS, 'params.ringTimeoutMs');
    const maxDurationMs = positive(params.maxDurationMs, DEFAULT_MAX_DURATION_MS, 'params.maxDurationMs');
    ctx.setTimer('ring-timeout', ctx.nowMs + ringTimeoutMs, { type: 'ring-timeout' });
    return {
      from: params.from,
      to: params.to,
      status: 'ringing',
      ringTimeoutMs,
      maxDurationMs,
      startedAtMs: ctx.nowMs,
      answeredAtMs: null,
      holds: 0,
      heldMs: 0,
    };
  },

  apply(state, op, ctx) {
    if (typeof op !== 'object' || op === null || typeof op.type !== 'string') {
      throw refuse('INVALID_OPERATION', 'an operation is an object with a string "type": answer, hold, resume or hangup');
    }
    // Timers fire as operations; a stale one (the call moved on) is a no-op.
    if (ctx.timer) {
      if (op.type === 'ring-timeout' && state.status === 'ringing') return end(state, ctx, 'no-answer');
      if (op.type === 'max-duration' && (state.status === 'answered' || state.status === 'held')) {
        return end(state, ctx, 'max-duration');
      }
      return { state, reply: { status: state.status, ignored: op.type } };
    }
    const allowed = TRANSITIONS[op.type];
    if (allowed === undefined) {
      throw refuse('INVALID_OPERATION', `unknown operation "${op.type}"; expected answer, hold, resume or hangup`);
    }
    if (!allowed.includes(state.status)) {
      throw refuse(
        'INVALID_TRANSITION',
        `cannot ${op.type} a call that is ${state.status}; ${op.type} is allowed when the call is ${allowed.join(' or ')}`,
      );
    }
    switch (op.type) {
      case 'answer':
        ctx.cancelTimer('ring-timeout');
        ctx.setTimer('max-duration', ctx.nowMs + state.maxDurationMs, { type: 'max-duration' });
        state.status = 'answered';
        state.answeredAtMs = ctx.nowMs;
        return { state, reply: { status: 'answered' } };
      case 'hold':
        state.status = 'held';
        state.holds += 1;
        state.heldSinceMs = ctx.nowMs;
        return { state, reply: { status: 'held', holds: state.holds } };
      case 'resume':
        state.heldMs += ctx.nowMs - state.heldSinceMs;
        delete state.heldSinceMs;
        state.status = 'answered';
        return { state, reply: { status: 'answered', heldMs: state.heldMs } };
      default:
        return end(state, ctx, 'hangup', typeof op.by === 'string' ? op.by : null);
    }
  },

  migrate(state) {
    return state;
  },
};
