/** The workshop's pure pieces (issue 6): parsing, labels, log lines, colour choice. Table-driven, no sockets. */
import { describe, expect, it } from 'vitest';
import { useColour } from '../../src/workshop/demo-command.js';
import { upgradeProxyConnection } from '../../src/workshop/demos/naive-smart-proxy.js';
import { wantsKeepAlive } from '../../src/workshop/demos/scripted-origin.js';
import { newSince, timeWaitTuples } from '../../src/workshop/demos/time-wait.js';
import { dumbEvents, requestLabel, responseLabel } from '../../src/workshop/demos/wiring.js';
import { dumbParentSettings } from '../../src/workshop/demos/proxy-connection.js';
import { deepMerge } from '../../src/config/merge.js';
import { proxyIssues, routingInput } from '../../src/config/proxy-settings.js';
import { configSchema } from '../../src/config/schema.js';
import { compileRouting } from '../../src/policy/proxy-route.js';
import { TimelineRecorder } from '../../src/workshop/timeline.js';
import { testConfig } from '../helpers/proxy.js';
import { describeDumbEvent } from '../../src/workshop/dumb-describe.js';
import type { DumbEvent } from '../../src/workshop/dumb-events.js';
import type { HeaderPair } from '../../src/workshop/dumb-head.js';
import { parseArgs } from '../../src/cli/args.js';
import { ROWS_BOTTOM, ROWS_TOP, TEXT_LEFT, TEXT_RIGHT, layoutRows, pageHeight, paginate, wrapLabel } from '../../src/workshop/diagram-pages.js';
import type { Scenario, Step } from '../../src/workshop/timeline.js';
import { xmlEscape } from '../../src/workshop/render-svg.js';

describe("demo proxy-connection, chain (b): the dumb proxy as hopwise's parent", () => {
  const parent = 'http://127.0.0.1:3128';
  const configFor = (legacy: boolean) => configSchema.parse(deepMerge(testConfig(), dumbParentSettings(parent, legacy)));

  it.each([true, false])('legacy %s: valid settings that send the loopback origin through the parent', (legacy) => {
    const config = configFor(legacy);
    expect(proxyIssues(config)).toEqual([]);
    const { router } = compileRouting(routingInput(config.upstream));
    const route = router.route({ scheme: 'http', hostname: '127.0.0.1', port: 9000 });
    expect(route.kind === 'parent' ? route.parents.map((p) => p.key) : route).toEqual([parent]);
    expect(config.upstream.origins).toEqual(legacy ? [expect.objectContaining({ origin: parent, maxRequestsPerSocket: 1 })] : []);
  });

  it('without its rule, the loopback origin would go direct: the rule is what makes the chain', () => {
    const config = configFor(true);
    const { router } = compileRouting(routingInput({ ...config.upstream, proxyRules: [] }));
    expect(router.route({ scheme: 'http', hostname: '127.0.0.1', port: 9000 })).toEqual({ kind: 'direct', why: 'loopback' });
  });

  it('the dumb proxy behind hopwise: its request arrows show the absolute-form target it received', () => {
    const rec = new TimelineRecorder();
    const head = { t: 0, conn: 1, method: 'GET', version: 'HTTP/1.1', headers: [['connection', 'close'], ['Host', 'o']] as HeaderPair[], bytes: 80 };
    dumbEvents(rec, { prev: 'hopwise', dumb: 'dumb proxy', drawPrevHop: true, absoluteForm: true })({ ...head, type: 'request-head', target: 'http://127.0.0.1:9000/first' });
    dumbEvents(rec, { prev: 'smart', dumb: 'dumb proxy', drawPrevHop: true })({ ...head, type: 'request-head', target: 'http://127.0.0.1:9000/first' });
    expect(rec.steps.map((step) => step.label)).toEqual(['GET http://127.0.0.1:9000/first HTTP/1.1 · connection: close', 'GET /first HTTP/1.1 · connection: close']);
  });
});

describe('timeWaitTuples (/proc/net/tcp)', () => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  // Port 0x1F90 = 8080; 0x94BF = 38079. 0100007F = 127.0.0.1 (little-endian), 0101A8C0 = 192.168.1.1.
  const row = (local: string, remote: string, st: string): string =>
    `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0`;
  it.each([
    ['server side in TIME_WAIT', row('0100007F:1F90', '0100007F:94BF', '06'), 1],
    ['client side in TIME_WAIT', row('0100007F:94BF', '0100007F:1F90', '06'), 1],
    ['ESTABLISHED is not counted', row('0100007F:1F90', '0100007F:94BF', '01'), 0],
    ['another port', row('0100007F:1F91', '0100007F:94BF', '06'), 0],
    ['not loopback', row('0101A8C0:1F90', '0100007F:94BF', '06'), 0],
    ['127.1.2.3 is loopback', row('0302017F:1F90', '0100007F:94BF', '06'), 1],
    ['IPv6 ::1', row('00000000000000000000000001000000:1F90', '00000000000000000000000001000000:94BF', '06'), 1],
    ['the header line', header, 0],
    ['garbage', 'not a table row', 0],
  ])('%s → %i', (_name, line, expected) => {
    expect(timeWaitTuples(`${header}\n${line}\n`, 8080)).toHaveLength(expected);
  });

  it.each([
    [[], ['a', 'b'], 2],
    [['a'], ['a', 'b'], 1],
    [['a', 'b'], ['b'], 0],
  ])('newSince(%j, %j) = %i', (before, after, expected) => {
    expect(newSince(new Set(before), new Set(after))).toBe(expected);
  });

  it('newSince is null when a snapshot is unavailable', () => {
    expect(newSince(null, new Set())).toBeNull();
    expect(newSince(new Set(), null)).toBeNull();
  });
});

describe('scripted origin: keep-alive from Connection only (RFC 9112 §9.3)', () => {
  it.each([
    ['HTTP/1.1', [], true],
    ['HTTP/1.1', [['Connection', 'close']], false],
    ['HTTP/1.1', [['connection', 'Keep-Alive, CLOSE']], false],
    ['HTTP/1.0', [], false],
    ['HTTP/1.0', [['Connection', 'Keep-Alive']], true],
    ['HTTP/1.0', [['Connection', 'x, keep-alive ']], true],
    // Unlike llhttp, the book's origin does not know Proxy-Connection.
    ['HTTP/1.0', [['Proxy-Connection', 'Keep-Alive']], false],
  ] as [string, HeaderPair[], boolean][])('%s %j → %s', (version, headers, expected) => {
    expect(wantsKeepAlive(version, headers)).toBe(expected);
  });
});

describe('naive smart proxy: Proxy-Connection upgrade', () => {
  it.each([
    ['GET http://o/ HTTP/1.0\r\nProxy-Connection: Keep-Alive\r\n\r\n', 'GET http://o/ HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', true],
    ['GET http://o/ HTTP/1.0\r\nHost: o\r\nproxy-connection: keep-alive\r\nX: y\r\n\r\n', 'GET http://o/ HTTP/1.0\r\nHost: o\r\nX: y\r\nConnection: Keep-Alive\r\n\r\n', true],
    ['GET http://o/ HTTP/1.0\r\nProxy-Connection: close\r\n\r\n', 'GET http://o/ HTTP/1.0\r\nProxy-Connection: close\r\n\r\n', false],
    ['GET http://o/ HTTP/1.0\r\nHost: o\r\n\r\n', 'GET http://o/ HTTP/1.0\r\nHost: o\r\n\r\n', false],
  ])('%j', (head, expected, upgraded) => {
    expect(upgradeProxyConnection(head)).toEqual({ head: expected, upgraded });
  });
});

describe('timeline labels', () => {
  it.each([
    ['GET http://127.0.0.1:9/first HTTP/1.0', [['Host', 'h'], ['Connection', 'Keep-Alive']], 'GET /first HTTP/1.0 · Connection: Keep-Alive'],
    ['GET http://h HTTP/1.0', [['Proxy-Connection', 'Keep-Alive']], 'GET / HTTP/1.0 · Proxy-Connection: Keep-Alive'],
    ['GET /x HTTP/1.1', [['connection', 'keep-alive'], ['Via', '1.0 hopwise'], ['X', 'y']], 'GET /x HTTP/1.1 · connection: keep-alive · Via: 1.0 hopwise'],
  ] as [string, HeaderPair[], string][])('request %s', (line, headers, expected) => {
    expect(requestLabel(line, headers)).toBe(expected);
  });

  it.each([
    ['HTTP/1.1 200 OK', [['Connection', 'close'], ['Content-Length', '3']], '200 OK · Connection: close'],
    ['HTTP/1.0 502 Bad Gateway', [], '502 Bad Gateway'],
  ] as [string, HeaderPair[], string][])('response %s', (line, headers, expected) => {
    expect(responseLabel(line, headers)).toBe(expected);
  });

  // Widths in characters of the 24 px label font (the estimate is 0.6 em a character).
  const chars = (n: number): number => n * 24 * 0.6;
  it.each([
    ['short', 10, ['short']],
    ['GET /first HTTP/1.0 · Connection: Keep-Alive', 30, ['GET /first HTTP/1.0', 'Connection: Keep-Alive']],
    ['GET /first HTTP/1.0 · Connection: Keep-Alive', 60, ['GET /first HTTP/1.0 · Connection: Keep-Alive']],
    ['ignores 93 bytes: a request it will never read', 30, ['ignores 93 bytes: a request it', 'will never read']],
    ['a · b · c · d', 5, ['a · b', 'c · d']],
    // Never cut: a long label takes more lines, every word is kept.
    ['one two three four five six seven', 9, ['one two', 'three', 'four five', 'six seven']],
  ])('wrapLabel(%j, %i chars)', (label, max, expected) => {
    expect(wrapLabel(label, chars(max))).toEqual(expected);
  });

  it.each([
    ['a & b', 'a &amp; b'],
    ['<svg>', '&lt;svg&gt;'],
    [`"q" 'a'`, '&quot;q&quot; &apos;a&apos;'],
  ])('xmlEscape(%j)', (raw, escaped) => {
    expect(xmlEscape(raw)).toBe(escaped);
  });
});

describe('dumb mode log lines', () => {
  const at = (t: number, conn: number, body: object): DumbEvent => ({ t, conn, ...body }) as DumbEvent;
  it.each([
    [
      at(1, 1, { type: 'request-head', method: 'GET', target: 'http://o/x', version: 'HTTP/1.0', headers: [['Connection', 'keep-alive']], bytes: 40 }),
      'info',
      'c1 → GET http://o/x HTTP/1.0 (Connection: keep-alive relayed)',
    ],
    [
      at(1, 2, { type: 'request-head', method: 'GET', target: 'http://o/', version: 'HTTP/1.0', headers: [['Host', 'o']], bytes: 30 }),
      'info',
      'c2 → GET http://o/ HTTP/1.0 (no Connection header)',
    ],
    [
      at(1, 1, { type: 'request-head', method: 'GET', target: 'http://o/', version: 'HTTP/1.0', headers: [['Proxy-Connection', 'Keep-Alive'], ['Keep-Alive', '300']], bytes: 30 }),
      'info',
      'c1 → GET http://o/ HTTP/1.0 (Proxy-Connection: Keep-Alive, Keep-Alive: 300 relayed)',
    ],
    [
      at(1, 1, { type: 'client-bytes-ignored', n: 62, total: 62 }),
      'info',
      'c1 ✗ ignored 62 more bytes from the client (a next request?): a dumb proxy reads one request per connection',
    ],
    [at(1, 1, { type: 'client-connected', remoteAddress: '127.0.0.1', remotePort: 5000 }), 'debug', 'c1 connected from 127.0.0.1:5000'],
    [at(1, 1, { type: 'client-closed', initiator: 'proxy', responseBytes: 10, ignoredBytes: 62 }), 'info', 'c1 client connection closed by the proxy; 62 client bytes were never read'],
  ] as [DumbEvent, string, string][])('%o', (event, level, text) => {
    expect(describeDumbEvent(event, new Map())).toEqual({ level, text });
  });

  it('reports how long the origin held on after the response started', () => {
    const memory = new Map<number, number>();
    describeDumbEvent(at(10, 3, { type: 'response-head', statusLine: 'HTTP/1.1 200 OK', status: 200, headers: [['Connection', 'keep-alive']] }), memory);
    expect(describeDumbEvent(at(3010.4, 3, { type: 'origin-closed', initiator: 'origin', responseBytes: 100 }), memory)).toEqual({
      level: 'info',
      text: 'c3 origin closed, 3000 ms after the response started: response over (100 bytes)',
    });
  });

  it.each([
    [{ type: 'response-bytes', n: 1, total: 1 }],
    [{ type: 'origin-connecting', host: 'o', port: 80 }],
    [{ type: 'request-body-bytes', n: 1, total: 1, expected: 2 }],
  ])('no line for %o', (body) => {
    expect(describeDumbEvent(at(1, 1, body), new Map())).toBeUndefined();
  });
});

describe('colour on a terminal only', () => {
  it.each([
    [true, {}, true],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true],
    [false, {}, false],
    [undefined, {}, false],
  ] as const)('isTTY %s, env %o → %s', (isTTY, env, expected) => {
    expect(useColour({ isTTY } as unknown as NodeJS.WritableStream, env)).toBe(expected);
  });
});

describe('slide-sized diagram pages', () => {
  const lanes = ['client', 'dumb proxy', 'origin'];
  const msg = (t: number, from: string, to: string, label: string): Step => ({ kind: 'message', t, from, to, label, tone: 'request' });
  // The dumb-proxy story: the request, a 3 s stall, the retry.
  const steps: Step[] = [
    msg(1, 'client', 'dumb proxy', 'connect #1'),
    msg(2, 'client', 'dumb proxy', 'GET /first HTTP/1.0 · Connection: Keep-Alive'),
    msg(3, 'dumb proxy', 'origin', 'connect #1'),
    msg(4, 'dumb proxy', 'origin', 'GET /first HTTP/1.0 · Connection: Keep-Alive'),
    msg(5, 'origin', 'dumb proxy', '200 OK · Connection: Keep-Alive'),
    msg(6, 'dumb proxy', 'client', '200 OK · Connection: Keep-Alive ⇒ keep connection'),
    msg(7, 'client', 'dumb proxy', 'GET /second HTTP/1.0 · Connection: Keep-Alive'),
    { kind: 'note', t: 8, at: 'dumb proxy', label: 'ignores 93 bytes: a request it will never read', tone: 'problem' },
    msg(3008, 'origin', 'dumb proxy', 'FIN: idle 3000 ms'),
    msg(3009, 'dumb proxy', 'client', 'FIN, and no answer'),
    ...Array.from({ length: 14 }, (_, i) => msg(3010 + i, 'client', 'dumb proxy', `step ${i} · a label long enough to need a second line on a slide of this size, maybe even a third one`)),
  ];
  const scenario: Scenario = {
    id: 'dumb',
    title: 'client → dumb proxy → origin',
    lanes,
    steps,
    spans: [{ kind: 'stall', between: ['client', 'dumb proxy'], start: 7, end: 3009, label: 'stall 3002 ms' }],
    hops: [],
    facts: {},
  };
  const pages = paginate(scenario);

  it('splits at the natural steps: the request, the wait (with two steps either side), what happens next', () => {
    expect(pages.map((p) => p.heading).slice(0, 3)).toEqual(['the request', 'the wait', 'what happens next']);
    const wait = pages[1]?.rows ?? [];
    expect(wait.map((r) => r.breakBefore)).toEqual(['none', 'none', 'tall', 'none']);
    expect(pages.map((p) => p.count)).toEqual(pages.map(() => pages.length));
  });

  it('keeps every step once, in order, and every page fits the slide', () => {
    expect(pages.flatMap((p) => p.rows.map((r) => r.step))).toEqual(steps);
    for (const p of pages) expect(pageHeight(p.rows)).toBeLessThanOrEqual(ROWS_BOTTOM - ROWS_TOP);
  });

  it('wraps labels inside the slide and never cuts them', () => {
    for (const row of layoutRows(scenario)) {
      expect(row.lines.join(' ').replace(/ · /g, ' ')).toBe(row.step.label.replace(/ · /g, ' '));
      expect(row.boxX).toBeGreaterThanOrEqual(TEXT_LEFT - 0.5);
      expect(row.boxX + row.boxW).toBeLessThanOrEqual(TEXT_RIGHT + 0.5);
    }
  });

  it('draws a short pause as a short break, and only a stall as a tall one', () => {
    const quiet: Scenario = { ...scenario, spans: [] };
    expect(layoutRows(quiet).map((r) => r.breakBefore)).not.toContain('tall');
    expect(layoutRows(quiet)[8]?.breakBefore).toBe('short');
  });
});

describe('hopwise demo <name>: per-demo flags and help', () => {
  const help = (argv: string[]): string => {
    const parsed = parseArgs(argv, {});
    if (parsed.command !== 'print') throw new Error(`expected help, got ${JSON.stringify(parsed)}`);
    return parsed.text;
  };

  it.each<[string, string[], string[]]>([
    ['dumb-proxy', ['--idle-timeout', '[default: 3000]', '--slides', '--pcap'], ['--requests', '--pooled-next-hop']],
    ['proxy-connection', ['--idle-timeout', '[default: 3000]', '--pooled-next-hop'], ['--requests']],
    ['pooling', ['--requests', '[default: 500]', '--idle-timeout', '[default: 5000]'], ['--pooled-next-hop']],
    ['all', ['--slides', '--requests', '--idle-timeout'], ['--pooled-next-hop']],
  ])('demo %s --help: its own flags with defaults, and examples', (name, present, absent) => {
    const text = help(['demo', name, '--help']);
    expect(text).toContain(`hopwise demo ${name} [options]`);
    expect(text).toContain('Examples:');
    for (const p of present) expect(text).toContain(p);
    for (const a of absent) expect(text).not.toMatch(new RegExp(`${a}\\s`));
    expect(text).not.toMatch(/SPEC|§/);
  });

  it('the help of one demo is not the help of another', () => {
    const texts = new Set(['dumb-proxy', 'proxy-connection', 'pooling', 'all'].map((n) => help(['demo', n, '--help'])));
    expect(texts.size).toBe(4);
    expect(help(['demo', '--help'])).toContain('all');
  });

  it.each([
    [['demo', 'dumb-proxy', '--requests', '5'], /^demo dumb-proxy does not take --requests \(it takes .*--idle-timeout/],
    [['demo', 'pooling', '--pooled-next-hop'], /^demo pooling does not take --pooled-next-hop/],
    [['demo', 'all', '--pooled-next-hop'], /^demo all does not take --pooled-next-hop/],
    [['demo', 'teleport'], /Choices: "dumb-proxy", "proxy-connection", "pooling", "all"/],
  ])('%j is a usage error (exit 2) naming the flag and the demo', (argv, message) => {
    const parsed = parseArgs(argv, {});
    expect(parsed.command).toBe('error');
    if (parsed.command !== 'error') return;
    expect(parsed.exitCode).toBe(2);
    expect(parsed.message).toMatch(message);
  });

  it('takes the output flags and its own ones', () => {
    expect(parseArgs(['demo', 'all', '--slides', 'deck', '--pcap', 'x.pcap', '--requests', '20'], {})).toStrictEqual({
      command: 'demo',
      name: 'all',
      slidesDir: 'deck',
      pcapFile: 'x.pcap',
      requests: 20,
    });
  });
});
