/**
 * The workshop demos (SPEC §9.2, issue 6), driven programmatically with a short origin idle timeout and few requests.
 * The assertions are on the observed facts (times on one clock, connection counts at the origin, hopwise's stats),
 * never on the text. The SVG is checked for well-formedness here and rendered in headless Chromium.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runDumbProxyDemo } from '../../src/workshop/demos/dumb-proxy.js';
import { runPoolingDemo } from '../../src/workshop/demos/pooling.js';
import { runProxyConnectionDemo } from '../../src/workshop/demos/proxy-connection.js';
import { paginate } from '../../src/workshop/diagram-pages.js';
import { renderDiagramSvg } from '../../src/workshop/render-svg.js';
import { renderText } from '../../src/workshop/render-text.js';
import type { DemoResult, Fact, Scenario } from '../../src/workshop/timeline.js';
import { testConfig } from '../helpers/proxy.js';
import { xmlProblem } from '../helpers/xml.js';
import { NO_CHROMIUM, haveChromium, launchChromium } from '../helpers/chromium.js';
import { skipUnless } from '../helpers/skip.js';

const IDLE_MS = 800;
/** Every slide-sized diagram of a result, as standalone SVG documents. */
const diagrams = (r: DemoResult): string[] => r.scenarios.flatMap((s) => paginate(s).map((p) => renderDiagramSvg(r.title, p)));
const REQUESTS = 60;
const CONCURRENCY = 6;

const num = (f: Fact | undefined): number => {
  if (typeof f !== 'number') throw new Error(`expected a number, got ${String(f)}`);
  return f;
};
const scenario = (r: DemoResult, id: string): Scenario => {
  const s = r.scenarios.find((x) => x.id === id);
  if (s === undefined) throw new Error(`no scenario ${id}`);
  return s;
};

// Each demo runs once; the tests below read its result.
let dumb: DemoResult;
let pc: DemoResult;
let pooling: DemoResult;
const config = testConfig();
beforeAll(async () => {
  dumb = await runDumbProxyDemo({ config, idleTimeoutMs: IDLE_MS });
  pc = await runProxyConnectionDemo({ config, idleTimeoutMs: IDLE_MS });
  pooling = await runPoolingDemo({ config, requests: REQUESTS, concurrency: CONCURRENCY });
});

describe('demo dumb-proxy', () => {
  it('the dumb path stalls for the origin idle timeout (±20 %) and answers the second request only after the origin closed', () => {
    const f = scenario(dumb, 'dumb').facts;
    expect(num(f.stallMs)).toBeGreaterThanOrEqual(IDLE_MS * 0.8);
    expect(num(f.stallMs)).toBeLessThanOrEqual(IDLE_MS * 1.2);
    expect(f.responses).toBe(2);
    expect(num(f.secondResponseAt)).toBeGreaterThan(num(f.originClosedAt));
    expect(f.secondResponseAfterOriginClose).toBe(true);
    // The second request was never read on the kept-alive connection: the client had to retry on a new one.
    expect(num(f.ignoredBytes)).toBeGreaterThan(0);
    expect(f.secondRetried).toBe(true);
    expect(f.clientConnections).toBe(2);
  });

  it('the hopwise path answers both requests in well under the idle timeout, on one reused upstream socket', () => {
    const f = scenario(dumb, 'hopwise').facts;
    expect(f.responses).toBe(2);
    expect(num(f.totalMs)).toBeLessThan(IDLE_MS / 2);
    expect(num(f.longestWaitMs)).toBeLessThan(IDLE_MS / 2);
    expect(f.originConnections).toBe(1);
    expect(f.upstreamSocketsCreated).toBe(1);
    expect(f.reusedRequests).toBe(1);
    // HTTP/1.0 client: hopwise answered Connection: close, so the client reconnected for its second request.
    expect(f.clientConnections).toBe(2);
  });

  it('the timeline is in time order, spans the stall on the client hop, and shows who held the origin connection', () => {
    const s = scenario(dumb, 'dumb');
    const times = s.steps.map((step) => step.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const stall = s.spans.find((span) => span.kind === 'stall');
    expect(stall?.between).toEqual(['client', 'dumb proxy']);
    expect(num(stall?.end) - num(stall?.start)).toBeCloseTo(num(s.facts.stallMs), 0);
    const held = s.spans.find((span) => span.kind === 'held');
    expect(held?.between).toEqual(['dumb proxy', 'origin']);
    expect(num(held?.end) - num(held?.start)).toBeGreaterThanOrEqual(IDLE_MS * 0.95);
  });
});

describe('demo proxy-connection', () => {
  it('(a) one dumb proxy: Proxy-Connection reaches the origin, which closes; nothing stalls', () => {
    const f = scenario(pc, 'a').facts;
    expect(f.proxyConnectionAtOrigin).toBe(true);
    expect(f.connectionKeepAliveAtOrigin).toBe(false);
    expect(f.stalled).toBe(false);
    expect(num(f.longestWaitMs)).toBeLessThan(IDLE_MS / 2);
    expect(f.responses).toBe(2);
  });

  it('(c) a naive smart proxy in front of a dumb one: keep-alive reaches the origin and the client hangs', () => {
    const f = scenario(pc, 'c').facts;
    expect(f.connectionKeepAliveAtOrigin).toBe(true);
    expect(f.stalled).toBe(true);
    expect(num(f.longestWaitMs)).toBeGreaterThanOrEqual(IDLE_MS * 0.8);
    expect(num(f.longestWaitMs)).toBeLessThanOrEqual(IDLE_MS * 1.2);
    // The hang ended with the connection closed under the client's request: no answer on it.
    expect(f.unansweredCloses).toBe(1);
  });

  it("(b) is a real chain: the dumb proxy is hopwise's parent, receives absolute-form request lines, and is the route hopwise logs", () => {
    const s = scenario(pc, 'b');
    const originPort = num(s.ports?.origin);
    const parent = `http://127.0.0.1:${num(s.ports?.['dumb proxy'])}`;
    expect(s.facts.absoluteFormAtDumbProxy).toBe(true);
    expect(s.facts.requestTargetsAtDumbProxy).toBe(`http://127.0.0.1:${originPort}/first http://127.0.0.1:${originPort}/second`);
    // hopwise's access records (what its access log writes as `route`) name the parent for every request.
    expect(s.facts.hopwiseRoute).toBe(parent);
    // The timeline shows the request line the dumb proxy received from hopwise, absolute-form.
    const toParent = s.steps.filter((step) => step.kind === 'message' && step.from === 'hopwise' && step.to === 'dumb proxy' && step.tone === 'request');
    expect(toParent.map((step) => step.label.split(' · ')[0])).toEqual([
      `GET http://127.0.0.1:${originPort}/first HTTP/1.1`,
      `GET http://127.0.0.1:${originPort}/second HTTP/1.1`,
    ]);
    expect(s.title).toBe("(b) client → hopwise → dumb proxy (hopwise's parent) → origin");
  });

  it('(b) hopwise in front of a dumb proxy: Proxy-Connection stripped, the client is never left hanging on its own connection', () => {
    const f = scenario(pc, 'b').facts;
    expect(f.proxyConnectionAtOrigin).toBe(false);
    expect(f.unansweredCloses).toBe(0);
    expect(f.responses).toBe(2);
    // Each HTTP/1.0 client connection got its answer and Connection: close: the first one within the usual time.
    expect(f.clientConnections).toBe(2);
  });

  it('(b) hopwise configured for a legacy next hop does not stall: no reuse towards the dumb proxy, no keep-alive at the origin', () => {
    const f = scenario(pc, 'b').facts;
    expect(f.stalled).toBe(false);
    expect(num(f.longestWaitMs)).toBeLessThan(IDLE_MS * 0.5);
    expect(f.connectionKeepAliveAtOrigin).toBe(false);
    expect(f.hopwiseReusedRequests).toBe(0);
    expect(f.hopwiseStaleRetries).toBe(0);
  });

  /**
   * With default pooling, hopwise's connection to its parent is persistent HTTP/1.1 and says `connection: keep-alive`;
   * the dumb proxy relays it, the origin keeps the connection, and the request hopwise sends on the reused socket is
   * never read. It waits for the origin's idle timeout, then the stale retry (SPEC §4.3) answers it. No proxy can
   * recognise a dumb parent (it relays the origin's HTTP/1.1 status line): hence the legacy-parent setting.
   */
  it('(b) with default pooling towards the dumb proxy, the reused socket stalls once for the idle timeout, then the stale retry answers', async () => {
    const pooled = await runProxyConnectionDemo({ config, idleTimeoutMs: IDLE_MS, legacyNextHop: false });
    const b = scenario(pooled, 'b');
    const f = b.facts;
    expect(f.hopwiseRoute).toBe(`http://127.0.0.1:${num(b.ports?.['dumb proxy'])}`);
    expect(f.absoluteFormAtDumbProxy).toBe(true);
    expect(f.connectionKeepAliveAtOrigin).toBe(true);
    expect(f.hopwiseReusedRequests).toBe(1);
    expect(f.hopwiseStaleRetries).toBe(1);
    expect(num(f.longestWaitMs)).toBeGreaterThanOrEqual(IDLE_MS * 0.8);
    expect(num(f.longestWaitMs)).toBeLessThanOrEqual(IDLE_MS * 1.2);
  });
});

describe('demo pooling', () => {
  it('naive mode opens one upstream connection per request; hopwise at most maxSockets, reusing them', () => {
    const naive = scenario(pooling, 'naive').facts;
    const hopwise = scenario(pooling, 'hopwise').facts;
    expect(naive.ok).toBe(REQUESTS);
    expect(hopwise.ok).toBe(REQUESTS);
    expect(naive.upstreamConnections).toBe(REQUESTS);
    expect(naive.originRequests).toBe(REQUESTS);
    expect(num(hopwise.upstreamConnections)).toBeLessThanOrEqual(num(hopwise.maxSockets));
    // Clients in flight at once never need more sockets than there are of them.
    expect(num(hopwise.upstreamConnections)).toBeLessThanOrEqual(CONCURRENCY);
    expect(hopwise.upstreamSocketsCreated).toBe(hopwise.upstreamConnections);
    expect(num(hopwise.reuseRatio)).toBeCloseTo((REQUESTS - num(hopwise.upstreamConnections)) / REQUESTS, 2);
  });

  it('counts TIME_WAIT sockets at the origin port where /proc/net/tcp exists, and says unavailable elsewhere', () => {
    const naive = scenario(pooling, 'naive').facts.timeWaitAtOriginPort;
    const hopwise = scenario(pooling, 'hopwise').facts.timeWaitAtOriginPort;
    if (!existsSync('/proc/net/tcp')) {
      expect([naive, hopwise]).toEqual([null, null]);
      return;
    }
    // The origin closes first after each `Connection: close` exchange, so it keeps the TIME_WAIT; the last few
    // connections (at most one per client in flight) may still be finishing their close when the table is read.
    expect(num(naive)).toBeGreaterThanOrEqual(REQUESTS - CONCURRENCY);
    expect(num(naive)).toBeLessThanOrEqual(REQUESTS);
    expect(num(hopwise)).toBe(0);
  });
});

describe('renderers', () => {
  it.each([
    ['dumb-proxy', () => dumb, ['client', 'dumb proxy', 'hopwise', 'origin']],
    ['proxy-connection', () => pc, ['client', 'dumb proxy', 'hopwise', 'naive smart proxy', 'origin']],
    ['pooling', () => pooling, ['client', 'naive proxy', 'hopwise', 'origin']],
  ] as const)('%s: the SVG is well-formed XML naming every participant; the text is plain unless colour is asked for', (_name, result, lanes) => {
    const svgs = diagrams(result());
    for (const one of svgs) expect(xmlProblem(one)).toBeNull();
    const svg = svgs.join('\n');
    for (const lane of lanes) expect(svg).toContain(`>${lane}</text>`);
    const plain = renderText(result(), { colour: false });
    expect(plain).not.toContain('\u001b[');
    expect(renderText(result(), { colour: true })).toContain('\u001b[');
  });

  it('the well-formedness check itself rejects broken XML', () => {
    expect(xmlProblem('<svg><text>a & b</text></svg>')).toMatch(/bare &/);
    expect(xmlProblem('<svg><text>a</svg>')).toMatch(/unexpected/);
    expect(xmlProblem('<svg x="1" x="2"/>')).toMatch(/duplicate/);
    expect(xmlProblem('<svg><g></g></svg>')).toBeNull();
  });
});

/** The browser-side types this test touches (the project compiles without the DOM library). */
type BrowserGlobals = {
  DOMParser: new () => { parseFromString(doc: string, type: string): { querySelector(q: string): { textContent: string | null } | null } };
};
type Measurable = { textContent: string | null; getBBox(): { width: number } };
const chromiumTest = skipUnless(haveChromium, NO_CHROMIUM);

describe('SVG in headless Chromium', () => {
  chromiumTest("parses strictly and renders the participants' labels", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      for (const [result, lanes] of [
        [dumb, ['client', 'dumb proxy', 'hopwise', 'origin']],
        [pc, ['naive smart proxy', 'dumb proxy', 'hopwise']],
      ] as const) {
        const svgs = diagrams(result);
        for (const svg of svgs) {
          const parseError = await page.evaluate(
            (doc) => {
              const { DOMParser } = globalThis as unknown as BrowserGlobals;
              return new DOMParser().parseFromString(doc, 'image/svg+xml').querySelector('parsererror')?.textContent ?? null;
            },
            svg,
          );
          expect(parseError).toBeNull();
        }
        const inline = svgs.map((svg) => svg.replace(/^<\?xml[^>]*\?>/, '')).join('');
        await page.setContent(`<!doctype html><html><body style="margin:0">${inline}</body></html>`);
        const rendered = await page.$$eval('svg text', (nodes: unknown[]) =>
          (nodes as Measurable[]).map((n) => ({ text: n.textContent ?? '', width: n.getBBox().width })),
        );
        for (const lane of lanes) {
          const label = rendered.find((r) => r.text === lane);
          expect(label, `label ${lane}`).toBeDefined();
          expect(label?.width).toBeGreaterThan(20);
        }
      }
    } finally {
      await browser.close();
    }
  });
});

describe('hopwise demo (CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hopwise-demo-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the timeline (plain when piped) and writes one SVG per diagram and the JSON timeline', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    const svgDir = join(dir, 'svg');
    const jsonFile = join(dir, 'demo.json');
    const code = await main(['demo', 'dumb-proxy', '--idle-timeout', '300', '--svg', svgDir, '--json', jsonFile], {
      env: {},
      stdout,
      stderr,
    });
    expect(code).toBe(0);
    expect(out).toContain('client');
    expect(out).not.toContain('\u001b[');
    const files = await readdir(svgDir);
    expect(files).toContain('dumb-proxy-dumb-1.svg');
    for (const f of files) expect(xmlProblem(await readFile(join(svgDir, f), 'utf8'))).toBeNull();
    const json = JSON.parse(await readFile(jsonFile, 'utf8')) as DemoResult;
    expect(json.demo).toBe('dumb-proxy');
    expect(json.params.idleTimeoutMs).toBe(300);
    expect(json.scenarios.map((s) => s.id)).toEqual(['dumb', 'hopwise']);
    expect(json.scenarios[0]?.steps.every((s) => typeof s.t === 'number')).toBe(true);
  });

  it('exits 1 and says why when a file cannot be written', async () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await main(['demo', 'dumb-proxy', '--idle-timeout', '0', '--json', join(dir, 'missing', 'x.json')], {
      env: {},
      stdout: new PassThrough(),
      stderr,
    });
    expect(code).toBe(1);
    expect(err).toMatch(/cannot write .*x\.json/);
  });
});
