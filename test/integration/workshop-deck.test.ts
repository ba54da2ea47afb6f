/**
 * The projector-ready workshop (issue 16): `hopwise demo all --slides DIR --svg DIR --pcap FILE --json FILE`, run once
 * with short parameters, then every slide of the deck rendered in real headless Chromium at 1920×1080 with the network
 * off: nothing overflows the slide, no two text boxes intersect, the smallest text is readable, the keys move through
 * the deck and `?notes` shows the speaker notes. The pooling chart carries the run's own numbers, and the capture read
 * back with tshark holds the SYNs and FINs the demos counted. Screenshots of every slide are kept as artifacts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { OutputDir } from '../../src/workshop/output-dir.js';
import { PacketCapture } from '../../src/workshop/pcap.js';
import type { DemoResult, Scenario } from '../../src/workshop/timeline.js';
import { ms } from '../../src/workshop/timeline.js';
import { xmlProblem } from '../helpers/xml.js';
import { NO_CHROMIUM, haveChromium, launchChromium } from '../helpers/chromium.js';
import { skipUnless } from '../helpers/skip.js';

const IDLE_MS = 300;
const REQUESTS = 40;
/** Where the slide screenshots are kept (CI can upload the directory). */
const ARTIFACTS = join(process.env.HOPWISE_TEST_ARTIFACTS ?? join(tmpdir(), 'hopwise-test-artifacts'), 'workshop-deck');
const onPath = (tool: string): boolean => (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, tool)));
/** Why packets cannot be captured here (no tcpdump or tshark, or no right to capture on lo); undefined when they can. */
const captureProblem = !onPath('tshark')
  ? 'tshark is not installed (apt-get install tshark)'
  : await PacketCapture.open(join(tmpdir(), `hopwise-probe-${process.pid}.pcap`)).then(
      () => undefined,
      (err: Error) => err.message,
    );
const haveCapture = captureProblem === undefined;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function demo(argv: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const run: Run = { code: -1, out: '', err: '' };
  stdout.on('data', (c: Buffer) => (run.out += c.toString()));
  stderr.on('data', (c: Buffer) => (run.err += c.toString()));
  run.code = await main(['demo', ...argv], { env: {}, stdout, stderr });
  return run;
}

let dir: string;
let run: Run;
let results: DemoResult[];
const scenario = (demoName: string, id: string): Scenario => {
  const s = results.find((r) => r.demo === demoName)?.scenarios.find((x) => x.id === id);
  if (s === undefined) throw new Error(`no scenario ${demoName}/${id}`);
  return s;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hopwise-deck-'));
  const pcap = haveCapture ? ['--pcap', join(dir, 'run.pcap')] : [];
  run = await demo(['all', '--idle-timeout', String(IDLE_MS), '--requests', String(REQUESTS), '--slides', join(dir, 'deck'), '--svg', join(dir, 'svg'), '--json', join(dir, 'run.json'), ...pcap]);
  results = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as DemoResult[];
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hopwise demo all --slides --svg --json', () => {
  it('runs every demo and writes one deck, one SVG per diagram, the results', async () => {
    expect(run.code, run.err).toBe(0);
    expect(results.map((r) => r.demo)).toEqual(['dumb-proxy', 'proxy-connection', 'pooling']);
    expect((await readdir(join(dir, 'deck'))).filter((f) => !f.startsWith('.'))).toEqual(['index.html']);
    // No temporary directory is left beside the outputs.
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('each SVG is one 1920×1080 diagram, well-formed, with no text under 18 px', async () => {
    const files = await readdir(join(dir, 'svg'));
    expect(files).toContain('pooling-chart.svg');
    expect(files.filter((f) => f.startsWith('dumb-proxy-dumb-')).length).toBeGreaterThanOrEqual(3); // request, wait, what next
    for (const f of files) {
      const svg = await readFile(join(dir, 'svg', f), 'utf8');
      expect(xmlProblem(svg), f).toBeNull();
      expect(svg).toContain('viewBox="0 0 1920 1080"');
      const sizes = [...svg.matchAll(/<text [^>]*font-size="([\d.]+)"/g)].map((m) => Number(m[1]));
      expect(Math.min(...sizes), f).toBeGreaterThanOrEqual(18);
    }
  });
});

describe("the chain (b) of proxy-connection on its slides: hopwise with the dumb proxy as its parent", () => {
  it("names the parent in the title and shows the absolute-form request hopwise sent it", async () => {
    const b = scenario('proxy-connection', 'b');
    expect(b.facts.hopwiseRoute).toBe(`http://127.0.0.1:${String(b.ports?.['dumb proxy'])}`);
    const files = (await readdir(join(dir, 'svg'))).filter((f) => f.startsWith('proxy-connection-b-')).sort();
    const texts = (await Promise.all(files.map((f) => readFile(join(dir, 'svg', f), 'utf8')))).flatMap((svg) =>
      [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1] ?? ''),
    );
    expect(texts).toContain('(b) client → hopwise → dumb proxy (hopwise&apos;s parent) → origin');
    const origin = String(b.ports?.origin);
    expect(texts.some((t) => t.startsWith(`GET http://127.0.0.1:${origin}/first HTTP/1.1`))).toBe(true);
    expect(texts.some((t) => t.startsWith(`GET http://127.0.0.1:${origin}/second HTTP/1.1`))).toBe(true);
    const html = await readFile(join(dir, 'deck', 'index.html'), 'utf8');
    expect(html).toContain('What each hop saw: (b) client → hopwise → dumb proxy (hopwise&apos;s parent) → origin');
  });
});

/** Runs in the page: every text box of the current slide, its font size in CSS px, and the slide's scroll size. */
const MEASURE = `(() => {
  const slide = document.querySelector('.slide.current');
  const boxes = [];
  let owner = 0;
  for (const el of slide.querySelectorAll('*')) {
    if (el instanceof SVGTextElement) {
      const svg = el.ownerSVGElement;
      const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
      const r = el.getBoundingClientRect();
      boxes.push({ owner: owner++, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, size: parseFloat(el.getAttribute('font-size')) * scale, svg: true, text: el.textContent });
      continue;
    }
    if (el.closest('svg')) continue;
    const texts = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (texts.length === 0) continue;
    const id = owner++;
    const size = parseFloat(getComputedStyle(el).fontSize);
    for (const n of texts) {
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) boxes.push({ owner: id, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, size, svg: false, text: n.textContent.slice(0, 60) });
    }
  }
  return { id: slide.id, kind: slide.className, scrollW: slide.scrollWidth, scrollH: slide.scrollHeight, boxes };
})()`;

interface Box {
  owner: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  size: number;
  svg: boolean;
  text: string;
}
interface Measured {
  id: string;
  kind: string;
  scrollW: number;
  scrollH: number;
  boxes: Box[];
}

function overlaps(boxes: readonly Box[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]] as [Box, Box];
      if (a.owner === b.owner) continue;
      const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
      const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
      if (w > 1 && h > 1) found.push(`"${a.text}" and "${b.text}"`);
    }
  }
  return found;
}

describe('the deck in headless Chromium, network off', () => {
  skipUnless(haveChromium, NO_CHROMIUM)(
    'every slide fits 1920×1080, no two text boxes intersect, text is at least 28 px (18 px in diagrams)',
    async () => {
      await mkdir(ARTIFACTS, { recursive: true });
      const browser = await launchChromium();
      try {
        const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, offline: true });
        const page = await context.newPage();
        const external: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith('file:')) external.push(r.url());
        });
        const url = `file://${join(dir, 'deck', 'index.html')}`;
        await page.goto(`${url}#1`);
        const count = await page.$$eval('.slide', (s) => s.length);
        const problems: string[] = [];
        for (let n = 1; n <= count; n++) {
          if (n > 1) await page.keyboard.press('ArrowRight');
          const m = await page.evaluate<Measured>(MEASURE);
          expect(m.id).toBe(`slide-${n}`);
          await page.screenshot({ path: join(ARTIFACTS, `slide-${String(n).padStart(2, '0')}.png`) });
          if (m.scrollW > 1920 || m.scrollH > 1080) problems.push(`${m.id}: content is ${m.scrollW}×${m.scrollH}`);
          for (const b of m.boxes) {
            if (b.x0 < -1 || b.y0 < -1 || b.x1 > 1921 || b.y1 > 1081) problems.push(`${m.id}: "${b.text}" leaves the slide`);
            if (b.size < (b.svg ? 18 : 28) - 0.01) problems.push(`${m.id}: "${b.text}" is ${b.size} px`);
          }
          problems.push(...overlaps(m.boxes).map((o) => `${m.id}: ${o} overlap`));
        }
        expect(problems).toEqual([]);
        expect(external).toEqual([]);
        // Keys: End, Home; the speaker view shows the notes of the slide in the address.
        await page.keyboard.press('End');
        const current = (): Promise<string> => page.evaluate<string>("document.querySelector('.slide.current').id");
        expect(await current()).toBe(`slide-${count}`);
        await page.keyboard.press('Home');
        expect(await current()).toBe('slide-1');
        await page.goto(`${url}?notes#3`);
        const notes = await page.evaluate<string>("document.getElementById('notes').innerText");
        expect(notes).toBe(await page.evaluate<string>("document.getElementById('slide-3').getAttribute('data-notes')"));
        expect(notes.length).toBeGreaterThan(10);
      } finally {
        await browser.close();
      }
    },
    90_000,
  );

  it("the pooling chart carries this run's numbers: connections, TIME_WAIT, handshake time", async () => {
    const html = await readFile(join(dir, 'deck', 'index.html'), 'utf8');
    const chart = /<section class="slide svg" id="slide-\d+" data-title="pooling-chart"[^>]*>([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
    const texts = [...chart.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    const naive = scenario('pooling', 'naive').facts;
    const hopwise = scenario('pooling', 'hopwise').facts;
    expect(naive.upstreamConnections).toBe(REQUESTS);
    for (const f of [naive, hopwise]) {
      expect(texts).toContain(String(f.upstreamConnections));
      expect(texts).toContain(f.timeWaitAtOriginPort === null ? 'unavailable' : String(f.timeWaitAtOriginPort));
      expect(texts).toContain(ms(Number(f.handshakeMs)));
    }
    expect(texts).toContain(`naive mode: ${REQUESTS} connections, one request each`);
    expect(texts.some((t) => /^connection #1: \d+ requests, reused \d+×$/.test(t ?? ''))).toBe(true);
  });
});

/** One row per packet: frame number, seconds since the first, ports and SYN/ACK/FIN flags. */
async function packets(file: string): Promise<{ frame: number; t: number; src: number; dst: number; syn: boolean; ack: boolean; fin: boolean }[]> {
  const fields = ['frame.number', 'frame.time_relative', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.fin'];
  const { stdout } = await promisify(execFile)('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=,', ...fields.flatMap((f) => ['-e', f])], { maxBuffer: 64 << 20 });
  const flag = (v: string | undefined): boolean => v === '1' || v === 'True';
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split(','))
    .map(([frame, t, src, dst, syn, ack, fin]) => ({ frame: Number(frame), t: Number(t), src: Number(src), dst: Number(dst), syn: flag(syn), ack: flag(ack), fin: flag(fin) }));
}

describe('--pcap', () => {
  skipUnless(haveCapture, captureProblem ?? '')(
    "the capture holds the demos' handshakes and closes, as many as they counted",
    async () => {
      const all = await packets(join(dir, 'run.pcap'));
      const synsTo = (port: number | undefined): number => all.filter((p) => p.syn && !p.ack && p.dst === port).length;
      const finsFrom = (port: number | undefined): typeof all => all.filter((p) => p.fin && p.src === port);
      // Pooling: one SYN per upstream connection opened; naive mode's origin closes every one of them.
      const naive = scenario('pooling', 'naive');
      const hopwise = scenario('pooling', 'hopwise');
      expect(synsTo(naive.ports?.origin)).toBe(naive.facts.upstreamConnections);
      expect(synsTo(naive.ports?.origin)).toBe(naive.facts.handshakes);
      expect(finsFrom(naive.ports?.origin).length).toBe(naive.facts.upstreamConnections);
      expect(synsTo(hopwise.ports?.origin)).toBe(hopwise.facts.upstreamConnections);
      // The dumb proxy: two origin connections, and the origin's FIN that ends the stall comes an idle timeout in.
      const dumb = scenario('dumb-proxy', 'dumb');
      expect(synsTo(dumb.ports?.origin)).toBe(dumb.facts.originConnections);
      const firstSyn = all.find((p) => p.syn && !p.ack && p.dst === dumb.ports?.origin)?.t ?? NaN;
      const stallFin = finsFrom(dumb.ports?.origin)[0]?.t ?? NaN;
      expect((stallFin - firstSyn) * 1000).toBeGreaterThanOrEqual(IDLE_MS * 0.8);
      expect(finsFrom(dumb.ports?.origin).length).toBe(dumb.facts.originConnections);
      // proxy-connection (b): one SYN per connection hopwise opened to its parent, the dumb proxy.
      const b = scenario('proxy-connection', 'b');
      expect(synsTo(b.ports?.['dumb proxy'])).toBe(b.facts.dumbProxyConnections);
      // The deck points at frames that exist.
      const html = await readFile(join(dir, 'deck', 'index.html'), 'utf8');
      const last = Math.max(...[...html.matchAll(/frames \d+–(\d+)/g)].map((m) => Number(m[1])));
      expect(last).toBe(all.length);
    },
  );

  it('fails before the demo starts when tcpdump cannot be run', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'no-tools-here');
    try {
      const r = await demo(['dumb-proxy', '--idle-timeout', '0', '--pcap', join(dir, 'never.pcap')]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/--pcap .*never\.pcap: tcpdump is not installed/);
      expect(r.out).toBe(''); // no timeline: the demo never started
    } finally {
      process.env.PATH = path;
    }
    expect(existsSync(join(dir, 'never.pcap'))).toBe(false);
  });
});

describe('bad output', () => {
  it('a directory that cannot be written: exit 1 with the path and the reason, before any demo runs', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    const under = await demo(['dumb-proxy', '--slides', join(file, 'deck')]);
    expect(under.code).toBe(1);
    expect(under.err).toMatch(/cannot write .*plain-file\/deck: a part of the path is not a directory/);
    expect(under.out).toBe('');
    const onFile = await demo(['pooling', '--svg', file]);
    expect(onFile.code).toBe(1);
    expect(onFile.err).toMatch(/cannot write .*plain-file: it exists and is not a directory/);
  });

  it('a run that fails after the demos ran leaves no deck behind', async () => {
    const deck = join(dir, 'never-deck');
    const r = await demo(['dumb-proxy', '--idle-timeout', '0', '--slides', deck, '--json', join(dir, 'missing', 'x.json')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot write .*x\.json/);
    expect(existsSync(deck)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.startsWith('.never-deck'))).toEqual([]);
  });

  it('an unknown demo: exit 2 listing the names', async () => {
    const r = await demo(['teleport', '--slides', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/"dumb-proxy", "proxy-connection", "pooling", "all"/);
  });

  it('a run that fails leaves nothing; a run that succeeds replaces the old directory as a whole', async () => {
    const target = join(dir, 'out');
    const failed = await OutputDir.prepare(target);
    await failed.discard();
    expect(existsSync(target)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.startsWith('.out.tmp-'))).toEqual([]);
    await mkdir(target);
    await writeFile(join(target, 'stale.html'), 'old');
    const ok = await OutputDir.prepare(target);
    await ok.commit(new Map([['index.html', 'new']]));
    expect(await readdir(target)).toEqual(['index.html']);
    expect((await stat(target)).isDirectory()).toBe(true);
    expect((await readdir(dir)).filter((f) => f.startsWith('.out.tmp-'))).toEqual([]);
  });
});
