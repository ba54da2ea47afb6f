import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainHopByHop, hopByHopPass, hopDiff, REQUEST_SET_BY_PROXY, type HopPassOptions } from '../../src/policy/index.js';

describe('hopDiff (issue 14): each change at a hop with its reason', () => {
  it('lists each removal of a request with Connection: X-Foo, X-Foo, Proxy-Connection and TE', () => {
    const received = ['Host', 'a', 'Connection', 'X-Foo', 'X-Foo', '1', 'Proxy-Connection', 'keep-alive', 'TE', 'trailers', 'Accept', '*/*'];
    const relayed = ['host', 'origin.test:80', 'Accept', '*/*', 'Via', '1.1 hopwise'];
    expect(hopDiff(received, relayed, { direction: 'request' })).toEqual([
      { op: 'removed', name: 'Connection', value: 'X-Foo', reason: 'hop-by-hop' },
      { op: 'removed', name: 'X-Foo', value: '1', reason: 'named-in-connection' },
      { op: 'removed', name: 'Proxy-Connection', value: 'keep-alive', reason: 'hop-by-hop' },
      { op: 'removed', name: 'TE', value: 'trailers', reason: 'hop-by-hop' },
      { op: 'replaced', name: 'host', value: 'a', to: 'origin.test:80', reason: 'host-from-uri' },
      { op: 'added', name: 'Via', value: '1.1 hopwise', reason: 'via-appended' },
    ]);
  });

  it.each([
    [
      'proxy credentials and Expect',
      ['Proxy-Authorization', 'Basic x', 'Expect', '100-continue', 'Host', 'h'],
      ['host', 'h'],
      [
        { op: 'removed', name: 'Proxy-Authorization', value: 'Basic x', reason: 'proxy-auth' },
        { op: 'removed', name: 'Expect', value: '100-continue', reason: 'expect-answered' },
      ],
    ],
    [
      'framing re-done and a forwarded header',
      ['Transfer-Encoding', 'chunked', 'Keep-Alive', 'timeout=5'],
      ['host', 'h', 'X-Forwarded-For', '127.0.0.1'],
      [
        { op: 'removed', name: 'Transfer-Encoding', value: 'chunked', reason: 'framing' },
        { op: 'removed', name: 'Keep-Alive', value: 'timeout=5', reason: 'hop-by-hop' },
        { op: 'added', name: 'host', value: 'h', reason: 'host-from-uri' },
        { op: 'added', name: 'X-Forwarded-For', value: '127.0.0.1', reason: 'forwarded-added' },
      ],
    ],
    [
      'Max-Forwards decremented',
      ['Max-Forwards', '3', 'Host', 'h'],
      ['host', 'h', 'Max-Forwards', '2'],
      [{ op: 'replaced', name: 'Max-Forwards', value: '3', to: '2', reason: 'max-forwards-decremented' }],
    ],
  ] as const)('request: %s', (_label, received, relayed, expected) => {
    expect(hopDiff(received, relayed, { direction: 'request' })).toEqual(expected);
  });

  it.each([
    [
      'Connection-named field, Proxy-Authenticate, Via',
      ['Connection', 'close, X-Bar', 'X-Bar', 'b', 'Proxy-Authenticate', 'Basic', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'],
      ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Via', '1.1 hopwise'],
      [
        { op: 'removed', name: 'Connection', value: 'close, X-Bar', reason: 'hop-by-hop' },
        { op: 'removed', name: 'X-Bar', value: 'b', reason: 'named-in-connection' },
        { op: 'removed', name: 'Proxy-Authenticate', value: 'Basic', reason: 'proxy-auth' },
        { op: 'added', name: 'Via', value: '1.1 hopwise', reason: 'via-appended' },
      ],
    ],
    [
      'Host and Content-Length named in Connection stay (the proxy owns framing)',
      ['Connection', 'Content-Length', 'Content-Length', '2'],
      ['Content-Length', '2'],
      [{ op: 'removed', name: 'Connection', value: 'Content-Length', reason: 'hop-by-hop' }],
    ],
    [
      'the proxy hop headers and Server-Timing',
      ['Content-Type', 'text/plain'],
      ['Content-Type', 'text/plain', 'Server-Timing', 'proxy;dur=1', 'Connection', 'keep-alive'],
      [
        { op: 'added', name: 'Server-Timing', value: 'proxy;dur=1', reason: 'server-timing' },
        { op: 'added', name: 'Connection', value: 'keep-alive', reason: 'proxy-hop' },
      ],
    ],
  ] as const)('response: %s', (_label, received, relayed, expected) => {
    expect(hopDiff(received, relayed, { direction: 'response' })).toEqual(expected);
  });

  it('upgrade: Connection becomes Connection: Upgrade, Upgrade kept, other options still removed', () => {
    const received = ['Connection', 'Upgrade, X-A', 'Upgrade', 'websocket', 'X-A', '1', 'Host', 'h'];
    const relayed = ['host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket'];
    expect(hopDiff(received, relayed, { direction: 'request', upgrade: true })).toEqual([
      { op: 'removed', name: 'X-A', value: '1', reason: 'named-in-connection' },
      { op: 'replaced', name: 'Connection', value: 'Upgrade, X-A', to: 'Upgrade', reason: 'upgrade-kept' },
    ]);
  });

  it('an unchanged message has no changes (duplicates matched one for one)', () => {
    const raw = ['Host', 'h', 'Set-Cookie', 'a', 'Set-Cookie', 'a'];
    expect(hopDiff(raw, raw, { direction: 'response' })).toEqual([]);
  });
});

// The explanation is decided by the pass's own classification: its output IS the pass's output.
const NAMES = ['Connection', 'Proxy-Connection', 'Keep-Alive', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade',
  'Host', 'Expect', 'Content-Length', 'Proxy-Authorization', 'Proxy-Authenticate', 'X-A', 'X-B', 'Via', 'Cookie',
  'A-Name-Longer-Than-Thirty-Two-Characters'];
const ows = fc.constantFrom('', ' ', '\t');
const token = fc.mixedCase(fc.constantFrom(...NAMES, 'close', 'upgrade', ''));
const connectionValue = fc.array(fc.tuple(ows, token, ows), { maxLength: 5 }).map((m) => m.map((p) => p.join('')).join(','));
const line = fc.oneof(
  fc.tuple(fc.mixedCase(fc.constant('Connection')), connectionValue),
  fc.tuple(fc.mixedCase(fc.constantFrom(...NAMES)), fc.string({ maxLength: 8 })),
);
const headers = fc.array(line, { maxLength: 14 }).map((lines) => Object.freeze(lines.flat()));
const options = fc.record({
  direction: fc.constantFrom<'request' | 'response'>('request', 'response'),
  upgrade: fc.boolean(),
  drop: fc.constantFrom<ReadonlySet<string> | undefined>(undefined, REQUEST_SET_BY_PROXY, new Set(['a-name-longer-than-thirty-two-characters'])),
  prepend: fc.constantFrom<readonly string[] | undefined>(undefined, ['host', 'h']),
  append: fc.constantFrom<readonly string[] | undefined>(undefined, ['Via', '1.1 hopwise']),
});

describe('explainHopByHop properties', () => {
  it('its kept fields equal what hopByHopPass outputs', () => {
    fc.assert(
      fc.property(headers, options, (raw, opts: HopPassOptions) => {
        expect(explainHopByHop(raw, opts).headers).toEqual(hopByHopPass(raw, opts).headers);
      }),
      { numRuns: 2000 },
    );
  });

  it('every received field is either kept or removed with a reason, never both', () => {
    fc.assert(
      fc.property(headers, options, (raw, opts: HopPassOptions) => {
        const e = explainHopByHop(raw, { ...opts, prepend: undefined, append: undefined });
        const upgradeLines = opts.upgrade === true && e.upgradeConnection === undefined ? 2 : 0;
        expect(e.headers.length - upgradeLines + 2 * e.removed.length).toBe(raw.length);
      }),
    );
  });

  it('hopDiff of the pass output lists exactly the pass removals (plus the proxy additions)', () => {
    fc.assert(
      fc.property(headers, fc.constantFrom<'request' | 'response'>('request', 'response'), (raw, direction) => {
        const drop = direction === 'request' ? REQUEST_SET_BY_PROXY : undefined;
        const relayed = hopByHopPass(raw, { direction, ...(drop && { drop }) }).headers;
        const removed = explainHopByHop(raw, { direction, ...(drop && { drop }) }).removed.filter((r) => r.reason !== 'set-by-proxy');
        const diff = hopDiff(raw, relayed, { direction }).filter((c) => c.op === 'removed' && c.reason !== 'expect-answered' && c.reason !== 'host-from-uri');
        expect(diff.map((c) => [c.name, c.value, c.reason])).toEqual(removed.map((r) => [r.name, r.value, r.reason]));
      }),
    );
  });
});
