import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { compileNodeOptions } from '../../src/node/node-options.js';
import { parseHostPort } from '../../src/rpc/address.js';

const handlers = ['counter=/x/counter'];

describe('compileNodeOptions', () => {
  it('fills defaults', () => {
    const options = compileNodeOptions({ nodeId: 'a', handlers });
    expect(options).toMatchObject({
      nodeId: 'a',
      listen: { host: '127.0.0.1', port: 7100 },
      control: { host: '127.0.0.1', port: 7101 },
      handlers: [{ sessionType: 'counter', path: '/x/counter' }],
      logLevel: 'info',
      graceMs: 10_000,
      dedupeWindow: 32,
      packIdleMs: 10_000,
    });
    expect(compileNodeOptions({ handlers, packIdleMs: '0' }).packIdleMs).toBe(0);
  });

  it('accepts handlers as a list, a comma-separated string or an object', () => {
    const expected = [
      { sessionType: 'a', path: '/p/a' },
      { sessionType: 'b', path: '/p/b' },
    ];
    expect(compileNodeOptions({ handlers: ['a=/p/a', 'b=/p/b'] }).handlers).toEqual(expected);
    expect(compileNodeOptions({ handlers: 'a=/p/a,b=/p/b' }).handlers).toEqual(expected);
    expect(compileNodeOptions({ handlers: { a: '/p/a', b: '/p/b' } }).handlers).toEqual(expected);
  });

  it.each([
    [{ handlers }, 'maxSessions', '0', /--max-sessions: got "0"; expected an integer from 1/],
    [{ handlers }, 'packIdleMs', '-1', /--pack-idle-ms: got "-1"; expected an integer from 0 to 86400000/],
    [{ handlers }, 'maxStateBytes', '1.5', /--max-state-bytes: got "1.5"/],
    [{ handlers }, 'listen', '127.0.0.1', /--listen: got "127.0.0.1"; expected HOST:PORT/],
    [{ handlers }, 'listen', '[nothex]:80', /--listen/],
    [{ handlers }, 'control', '127.0.0.1:7100', /--control: .*expected an address different from --listen/],
    [{ handlers }, 'nodeId', 'has space', /--node-id: got "has space"/],
    [{}, 'handlers', [], /--handler: got \[\]; expected at least one TYPE=PATH/],
    [{}, 'handlers', ['a=/x', 'a=/y'], /--handler: got "a"; expected each TYPE at most once/],
    [{}, 'handlers', ['9bad=/x'], /--handler: got "9bad=\/x"/],
  ] as const)('refuses %s with %s=%j', (base, key, value, message) => {
    const run = (): unknown => compileNodeOptions({ ...base, [key]: value });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:7100', { host: '127.0.0.1', port: 7100 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:9', { host: '::1', port: 9 }],
    ['host:65536', undefined],
    ['host', undefined],
    [':80', undefined],
    ['[::1]', undefined],
  ])('%s', (input, expected) => {
    expect(parseHostPort(input)).toEqual(expected);
  });
});
