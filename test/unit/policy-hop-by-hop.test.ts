import { describe, expect, it } from 'vitest';
import { connectionTokens, hopByHopPass, isUpgradeRequest, stripHopByHop, type StripOptions } from '../../src/policy/index.js';

/** `h('Name: value', ...)` → frozen flat rawHeaders; one space after the colon is dropped, other OWS kept. */
function h(...lines: string[]): readonly string[] {
  const flat: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const value = line.slice(colon + 1);
    flat.push(line.slice(0, colon), value.startsWith(' ') ? value.slice(1) : value);
  }
  return Object.freeze(flat);
}

const request: StripOptions = { direction: 'request' };
const response: StripOptions = { direction: 'response' };
const upgradeRequest: StripOptions = { direction: 'request', upgrade: true };
const upgradeResponse: StripOptions = { direction: 'response', upgrade: true };
const hundred = Array.from({ length: 100 }, (_, i) => `X-H${i}`);

describe('connectionTokens', () => {
  it.each([
    { name: 'no Connection field', raw: h('Host: a'), tokens: [] },
    { name: 'empty value', raw: h('Connection: '), tokens: [] },
    { name: 'only commas and OWS', raw: h('Connection: , ,\t,'), tokens: [] },
    { name: ',,close', raw: h('Connection: ,,close'), tokens: ['close'] },
    { name: 'mixed-case name and tokens', raw: h('cOnNeCtIoN: Keep-Alive, X-FOO'), tokens: ['keep-alive', 'x-foo'] },
    { name: 'tabs and spaces around tokens', raw: h('Connection: \tX-A ,\t X-B\t,X-C'), tokens: ['x-a', 'x-b', 'x-c'] },
    {
      name: 'several Connection lines',
      raw: h('Connection: x-a', 'Accept: */*', 'CONNECTION: X-B, x-a'),
      tokens: ['x-a', 'x-b'],
    },
    { name: '100 tokens', raw: h(`Connection: ${hundred.join(', ')}`), tokens: hundred.map((n) => n.toLowerCase()) },
  ])('$name', ({ raw, tokens }) => {
    expect([...connectionTokens(raw)].sort()).toEqual([...tokens].sort());
  });
});

describe('stripHopByHop', () => {
  it.each([
    {
      name: 'end-to-end headers pass unchanged: order, name case, values, duplicates (two Set-Cookie stay two)',
      raw: h('host: a', 'Set-Cookie: a=1', 'X-Custom: v', 'Set-Cookie: b=2', 'ACCEPT: */*'),
      opts: response,
      out: h('host: a', 'Set-Cookie: a=1', 'X-Custom: v', 'Set-Cookie: b=2', 'ACCEPT: */*'),
    },
    {
      name: 'the fixed list in any case',
      raw: h('CONNECTION: close', 'proxy-connection: keep-alive', 'Keep-Alive: timeout=5', 'te: trailers',
        'TRAILER: X-T', 'Transfer-Encoding: chunked', 'upgrade: h2c', 'X-Keep: 1'),
      opts: request,
      out: h('X-Keep: 1'),
    },
    {
      name: 'Connection: ,,close removes only Connection itself',
      raw: h('Connection: ,,close', 'Accept: */*'),
      opts: request,
      out: h('Accept: */*'),
    },
    {
      name: 'listed headers go, matched case-insensitively, wherever they appear',
      raw: h('x-foo: 1', 'Connection: X-FOO, x-Bar', 'X-BAR: 2', 'X-Baz: 3'),
      opts: request,
      out: h('X-Baz: 3'),
    },
    {
      name: 'tokens surrounded by tabs and spaces',
      raw: h('Connection: \tX-A ,\t X-B\t', 'X-A: 1', 'X-B: 2', 'X-C: 3'),
      opts: response,
      out: h('X-C: 3'),
    },
    {
      name: 'Host and Content-Length listed in Connection are kept (SPEC §1.2)',
      raw: h('Host: example.com', 'Connection: host, Content-Length, x-a', 'Content-Length: 3', 'X-A: 1'),
      opts: request,
      out: h('Host: example.com', 'Content-Length: 3'),
    },
    {
      name: 'several Connection lines combine',
      raw: h('Connection: x-a', 'X-A: 1', 'X-B: 2', 'Connection: X-B', 'X-C: 3'),
      opts: request,
      out: h('X-C: 3'),
    },
    {
      name: '100 listed tokens',
      raw: h(`Connection: ${hundred.join(',')}`, ...hundred.map((n) => `${n}: v`), 'X-Other: kept'),
      opts: request,
      out: h('X-Other: kept'),
    },
    {
      name: 'Trailers (plural) is end-to-end; Trailer (singular) is not',
      raw: h('Trailers: X-A', 'Trailer: X-B', 'trailers: again'),
      opts: response,
      out: h('Trailers: X-A', 'trailers: again'),
    },
    {
      name: 'Proxy-Authorization is stripped from requests; Proxy-Authenticate passes on requests',
      raw: h('Proxy-Authorization: Basic dTpw', 'proxy-authenticate: Basic', 'Authorization: Bearer t'),
      opts: request,
      out: h('proxy-authenticate: Basic', 'Authorization: Bearer t'),
    },
    {
      name: 'Proxy-Authenticate is stripped from responses; Proxy-Authorization passes on responses',
      raw: h('PROXY-AUTHENTICATE: Basic realm="p"', 'Proxy-Authorization: x', 'WWW-Authenticate: Basic'),
      opts: response,
      out: h('Proxy-Authorization: x', 'WWW-Authenticate: Basic'),
    },
    {
      name: 'Upgrade without the upgrade option is stripped',
      raw: h('Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: k'),
      opts: request,
      out: h('Sec-WebSocket-Key: k'),
    },
    {
      name: 'upgrade: one Connection: Upgrade (first line, its name case) and every Upgrade line are kept',
      raw: h('connection: keep-alive, Upgrade, X-A', 'Upgrade: websocket', 'X-A: 1', 'Connection: x-b',
        'X-B: 2', 'Keep-Alive: timeout=5', 'Sec-WebSocket-Key: k', 'upgrade: h2c'),
      opts: upgradeRequest,
      out: h('connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: k', 'upgrade: h2c'),
    },
    {
      name: '101 response with upgrade still loses the rest of the fixed list',
      raw: h('Upgrade: websocket', 'Connection: Upgrade', 'Transfer-Encoding: chunked', 'Proxy-Authenticate: B',
        'Sec-WebSocket-Accept: a'),
      opts: upgradeResponse,
      out: h('Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: a'),
    },
    {
      name: 'upgrade with no Connection line gets one appended',
      raw: h('Upgrade: websocket'),
      opts: upgradeRequest,
      out: h('Upgrade: websocket', 'Connection: Upgrade'),
    },
    { name: 'empty header list', raw: h(), opts: request, out: h() },
  ])('$name', ({ raw, opts, out }) => {
    const stripped = stripHopByHop(raw, opts);
    expect(stripped).toEqual(out);
    expect(stripped).not.toBe(raw);
    // Idempotent: a second pass changes nothing.
    expect(stripHopByHop(stripped, opts)).toEqual(stripped);
  });

  it('does not mutate its input (frozen) and returns a mutable copy', () => {
    const raw = h('Connection: x-a', 'X-A: 1', 'X-B: 2');
    const before = [...raw];
    const out = stripHopByHop(raw, request);
    expect(raw).toEqual(before);
    out.push('X-C', '3');
    expect(raw).toEqual(before);
  });
});

describe('isUpgradeRequest', () => {
  // [case, raw headers, protocol]
  it.each<[string, readonly string[], string | null]>([
    ['websocket upgrade', h('Connection: Upgrade', 'Upgrade: websocket'), 'websocket'],
    ['token among others, mixed case', h('connection: keep-alive, UPGRADE', 'UPGRADE: WebSocket'), 'websocket'],
    ['token on a second Connection line', h('Connection: keep-alive', 'Upgrade: h2c', 'Connection: upgrade'), 'h2c'],
    ['several Upgrade lines are joined', h('Connection: upgrade', 'Upgrade: websocket', 'Upgrade: h2c'), 'websocket, h2c'],
    ['Upgrade without the Connection token', h('Connection: keep-alive', 'Upgrade: websocket'), null],
    ['Upgrade without any Connection', h('Upgrade: websocket'), null],
    ['Connection token without Upgrade', h('Connection: upgrade'), null],
    ['empty Upgrade value', h('Connection: upgrade', 'Upgrade: '), null],
    ['Upgrade named as a substring only', h('Connection: upgrades', 'Upgrade: websocket'), null],
  ])('%s', (_name, raw, protocol) => {
    expect(isUpgradeRequest(raw)).toBe(protocol);
  });
});

describe('hopByHopPass: strip, drop, prepend, append and read Connection/Keep-Alive in one pass (issue 8)', () => {
  const longName = 'X-A-Header-Name-Longer-Than-32-Characters';
  it.each([
    {
      name: 'request: Host and Expect dropped, Host prepended, order kept',
      raw: h('Host: client', 'Accept: */*', 'Expect: 100-continue', 'X-B: 2'),
      opts: { direction: 'request' as const, drop: new Set(['host', 'expect']), prepend: ['host', 'origin:80'] },
      headers: ['host', 'origin:80', 'Accept', '*/*', 'X-B', '2'],
      close: false,
      keepAlive: undefined,
    },
    {
      name: 'response: Via appended after stripping, so Connection: via cannot remove it (SPEC §1.2)',
      raw: h('Connection: close, via', 'Via: 1.1 upstream', 'Keep-Alive: timeout=5', 'Content-Length: 3'),
      opts: { direction: 'response' as const, append: ['Via', '1.1 hopwise'] },
      headers: ['Content-Length', '3', 'Via', '1.1 hopwise'],
      close: true,
      keepAlive: 'timeout=5',
    },
    {
      name: 'several Keep-Alive lines are joined (RFC 9110 §5.3)',
      raw: h('Keep-Alive: timeout=5', 'X: 1', 'keep-alive: max=100, timeout=3'),
      opts: { direction: 'response' as const },
      headers: ['X', '1'],
      close: false,
      keepAlive: 'timeout=5, max=100, timeout=3',
    },
    {
      name: 'a name of 32+ characters listed in Connection is removed too',
      raw: h(`Connection: ${longName.toLowerCase()}`, `${longName}: v`, 'X-Other-Header-Name-Longer-Than-32-Chars: kept'),
      opts: { direction: 'request' as const },
      headers: ['X-Other-Header-Name-Longer-Than-32-Chars', 'kept'],
      close: false,
      keepAlive: undefined,
    },
    {
      name: 'a listed name with the length of a kept one: only the listed one goes',
      raw: h('Connection: x-aa', 'X-AA: 1', 'X-BB: 2'),
      opts: { direction: 'request' as const },
      headers: ['X-BB', '2'],
      close: false,
      keepAlive: undefined,
    },
  ])('$name', ({ raw, opts, headers, close, keepAlive }) => {
    const pass = hopByHopPass(raw, opts);
    expect(pass).toEqual({ headers, close, keepAlive });
    // Without drop/prepend/append, the pass's fields are exactly stripHopByHop's.
    if (opts.drop === undefined && opts.prepend === undefined && opts.append === undefined) {
      expect(stripHopByHop(raw, opts)).toEqual(headers);
    }
  });
});
