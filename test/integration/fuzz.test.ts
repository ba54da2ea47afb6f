/**
 * Raw-socket fuzzing of the request path (issue 7, SPEC §5.3): mutations of valid requests, sent in random pieces.
 * Asserts that the proxy never crashes (an uncaught error fails the run), that no connection outlives the configured
 * timeouts, that every answer is a proper status, and that nothing malformed reaches the origin — the origin is a raw
 * server judging every byte with an independent strict parser (helpers/strict-http.ts).
 *
 * Bounded by count and time; reproducible: HOPWISE_FUZZ_SEED=<seed> HOPWISE_FUZZ_RUNS=<n> (and HOPWISE_FUZZ_MS for the
 * time budget). The seed is printed at the start of every run.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzCase, headerCountCase, pipelinedOffersCase, type FuzzCase } from '../helpers/fuzz.js';
import { upgradeCase } from '../helpers/fuzz-upgrade.js';
import { startProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient, eventually, header, startRawOrigin } from '../helpers/raw.js';
import { parseStrictRequest, type StrictRequest } from '../helpers/strict-http.js';

// CI runs a fixed seed, so a landing is never decided by which cases a random seed happened to draw; everywhere else
// each run explores new cases. Any failure prints its seed, and HOPWISE_FUZZ_SEED replays it.
const CI_SEED = 20261123;
const SEED = Number(process.env.HOPWISE_FUZZ_SEED ?? (process.env.CI === 'true' ? CI_SEED : Math.floor(Math.random() * 2 ** 31)));
const RUNS = Number(process.env.HOPWISE_FUZZ_RUNS ?? 400);
const BUDGET_MS = Number(process.env.HOPWISE_FUZZ_MS ?? 12_000);
const CONCURRENCY = 8;

const TIMEOUTS = { headersTimeout: 600, requestTimeout: 1500, keepAliveTimeout: 300 };
/** The longest a connection may live: the request timeout plus Node's check interval plus scheduling slack. */
const MAX_LIFETIME_MS = TIMEOUTS.requestTimeout + 400 + 1500;
/** Statuses a mutated request may get (100 answers Expect: 100-continue); anything else (500, 502, 504, ...) is a finding. */
// 417: an Expect other than 100-continue (a mutated `Expect: 100-continue`) may be refused (RFC 9110 §10.1.1).
const PROPER = new Set([100, 200, 400, 403, 408, 413, 417, 431, 501, 505]);

interface Violation {
  readonly problem: string;
  readonly excerpt: string;
}

interface Origin {
  readonly port: number;
  readonly violations: Violation[];
  requests: number;
  close(): Promise<void>;
}

/**
 * The judging origin: answers each well-formed request (with `answer`, by default a 200 `ok`), records anything else
 * and drops the connection. `seen` keeps every request it accepted.
 */
async function judgingOrigin(
  answer: (request: StrictRequest) => string = () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
): Promise<Origin & { readonly seen: StrictRequest[] }> {
  const sockets = new Set<net.Socket>();
  const seen: StrictRequest[] = [];
  const state = { port: 0, violations: [] as Violation[], requests: 0, seen, close: () => Promise.resolve() };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const step = parseStrictRequest(buf);
        if (step.kind === 'incomplete') return;
        if (step.kind === 'invalid') {
          state.violations.push({ problem: step.problem, excerpt: buf.subarray(0, 300).toString('latin1') });
          socket.destroy();
          return;
        }
        state.requests++;
        seen.push(step.request);
        buf = buf.subarray(step.consumed);
        socket.write(answer(step.request));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

/** Status codes of every response head in what the proxy sent back. */
function statuses(bytes: Buffer): number[] {
  const out: number[] = [];
  const text = bytes.toString('latin1');
  const re = /(?:^|\r\n\r\n|ok)HTTP\/1\.[01] (\d{3}) /g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(Number(m[1]));
  return out;
}

interface Outcome {
  readonly index: number;
  readonly statuses: number[];
  readonly ms: number;
  readonly hung: boolean;
}

async function runCase(port: number, index: number, c: FuzzCase): Promise<Outcome> {
  const client = await RawClient.connect(port);
  const received: Buffer[] = [];
  client.socket.on('data', (b: Buffer) => received.push(b));
  const t0 = performance.now();
  let last = 0;
  for (const cut of [...c.cuts, c.bytes.length]) {
    client.write(c.bytes.subarray(last, cut));
    last = cut;
    await new Promise((r) => setImmediate(r));
  }
  let hung = false;
  try {
    await client.waitClosed(MAX_LIFETIME_MS);
  } catch {
    hung = true;
  } finally {
    client.close();
  }
  return { index, statuses: statuses(Buffer.concat(received)), ms: performance.now() - t0, hung };
}

describe(`fuzz: seed ${SEED}`, () => {
  let origin: Origin;
  let proxy: TestProxy;

  beforeAll(async () => {
    console.log(`fuzz: seed=${SEED} runs=${RUNS} budget=${BUDGET_MS}ms (reproduce: HOPWISE_FUZZ_SEED=${SEED} HOPWISE_FUZZ_RUNS=${RUNS} npx vitest run test/integration/fuzz.test.ts)`);
    origin = await judgingOrigin();
    proxy = await startProxy(
      {
        downstream: { ...TIMEOUTS, maxHeaderSize: 8192, maxBodySize: 100_000 },
        upstream: { responseTimeout: 3000, connectTimeout: 1000 },
        // Only the judging origin is reachable: a mutated authority is refused without DNS (no lookups of garbage).
        access: { destinations: [{ action: 'allow', host: '127.0.0.1', ports: [origin.port] }] },
      },
      'warn',
    );
  });

  afterAll(async () => {
    await proxy?.close();
    await origin?.close();
  });

  it('survives mutated requests: no crash, no hang, proper statuses, nothing malformed upstream', { timeout: BUDGET_MS + 30_000 }, async () => {
    const authority = `127.0.0.1:${origin.port}`;
    const deadline = performance.now() + BUDGET_MS;
    const outcomes: Outcome[] = [];
    const cases = new Map<number, FuzzCase>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < RUNS && performance.now() < deadline) {
        const index = next++;
        const c = fuzzCase(SEED, index, authority);
        cases.set(index, c);
        outcomes.push(await runCase(proxy.port, index, c));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const describeCase = (i: number): string => {
      const c = cases.get(i)!;
      return `case ${i} [${c.mutations.join(', ')}] ${JSON.stringify(c.bytes.toString('latin1').slice(0, 200))}`;
    };
    const hung = outcomes.filter((o) => o.hung).map((o) => describeCase(o.index));
    const improper = outcomes.filter((o) => o.statuses.some((s) => !PROPER.has(s))).map((o) => `${o.statuses.join(',')} ${describeCase(o.index)}`);
    const histogram: Record<string, number> = {};
    for (const o of outcomes) for (const s of o.statuses.length === 0 ? ['closed'] : o.statuses) histogram[s] = (histogram[s] ?? 0) + 1;
    console.log(`fuzz: seed=${SEED} ran ${outcomes.length} cases, origin saw ${origin.requests} requests, statuses ${JSON.stringify(histogram)}`);

    expect(outcomes.length).toBeGreaterThan(Math.min(RUNS, 50));
    expect(origin.violations, `seed ${SEED}`).toEqual([]);
    expect(hung, `seed ${SEED}`).toEqual([]);
    expect(improper, `seed ${SEED}`).toEqual([]);
    // Still serving, and every client connection is accounted for.
    const probe = await RawClient.connect(proxy.port);
    probe.write(`GET http://${authority}/probe HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
    expect((await probe.readResponse()).status).toBe(200);
    probe.close();
    await eventually(() => proxy.stats().downstream.connectionsActive === 0, 3000, 'every client connection to close');
  });
});

/** An origin that judges like the one above and answers each request with its origin-form target as the body. */
function echoingOrigin(): ReturnType<typeof judgingOrigin> {
  return judgingOrigin((r) => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(r.target)}\r\n\r\n${r.target}`);
}

/** Write `bytes` in the pieces `cuts` gives, a turn of the event loop apart. */
async function writeInPieces(client: RawClient, bytes: Buffer, cuts: readonly number[]): Promise<void> {
  let last = 0;
  for (const cut of [...cuts, bytes.length]) {
    client.write(bytes.subarray(last, cut));
    last = cut;
    await new Promise((r) => setImmediate(r));
  }
}

const LIMIT = 40;

describe(`fuzz (issue 17): header counts around downstream.maxHeaderCount, pipelined upgrade offers; seed ${SEED}`, () => {
  let origin: Awaited<ReturnType<typeof echoingOrigin>>;
  let proxy: TestProxy;

  beforeAll(async () => {
    origin = await echoingOrigin();
    proxy = await startProxy(
      {
        downstream: { ...TIMEOUTS, maxHeaderCount: LIMIT },
        upstream: { responseTimeout: 3000, connectTimeout: 1000 },
        access: { destinations: [{ action: 'allow', host: '127.0.0.1', ports: [origin.port] }] },
      },
      'warn',
      { instanceId: 'hw-fuzz17' },
    );
  });

  afterAll(async () => {
    await proxy?.close();
    await origin?.close();
  });

  it('a head over the limit is refused whole (431); at or under it, its last field takes effect', { timeout: 30_000 }, async () => {
    const authority = `127.0.0.1:${origin.port}`;
    const runs = Math.min(RUNS, 120);
    const failures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let index = next++; index < runs; index = next++) {
        const c = headerCountCase(SEED, index, authority, LIMIT);
        const client = await RawClient.connect(proxy.port);
        try {
          await writeInPieces(client, c.bytes, c.cuts);
          const res = await client.readResponse({ ms: MAX_LIFETIME_MS });
          const upstream = origin.seen.find((r) => r.target === `/count-${index}`);
          if (res.status !== c.status) failures.push(`${c.description}: got ${res.status}`);
          else if (c.status !== 200 && upstream !== undefined) failures.push(`${c.description}: forwarded anyway`);
          else if (c.status === 200 && upstream === undefined) failures.push(`${c.description}: not forwarded`);
          else if (upstream?.headers.some(([n]) => n.toLowerCase() === 'x-fuzz-hop') === true) failures.push(`${c.description}: X-Fuzz-Hop forwarded`);
          else if (c.bytes.includes('Content-Length: 5') && c.status === 200 && upstream!.bodyLength !== 5) failures.push(`${c.description}: body ${upstream!.bodyLength}`);
        } catch (err) {
          failures.push(`${c.description}: ${(err as Error).message}`);
        } finally {
          client.close();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures, `seed ${SEED}`).toEqual([]);
    expect(origin.violations, `seed ${SEED}`).toEqual([]);
  });

  it('pipelined plain requests and declined upgrade offers are all answered, in order', { timeout: 30_000 }, async () => {
    const authority = `127.0.0.1:${origin.port}`;
    const runs = Math.min(RUNS, 120);
    const failures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let index = next++; index < runs; index = next++) {
        const c = pipelinedOffersCase(SEED, index, authority);
        const client = await RawClient.connect(proxy.port);
        try {
          await writeInPieces(client, c.bytes, c.cuts);
          const bodies: string[] = [];
          for (let i = 0; i < c.paths.length; i++) {
            const res = await client.readResponse({ ms: MAX_LIFETIME_MS });
            bodies.push(`${res.status} ${res.body.toString('latin1')}`);
          }
          const want = c.paths.map((p) => `200 ${p}`);
          if (bodies.join('|') !== want.join('|')) failures.push(`${c.description}: got ${bodies.join(', ')}`);
        } catch (err) {
          failures.push(`${c.description}: ${(err as Error).message}`);
        } finally {
          client.close();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures, `seed ${SEED}`).toEqual([]);
    expect(origin.violations, `seed ${SEED}`).toEqual([]);
    await eventually(() => proxy.stats().downstream.connectionsActive === 0, 3000, 'every client connection to close');
  });
});

describe(`fuzz: WebSocket answers (declines in every framing, prototype-named fields), seed ${SEED}`, () => {
  it('declines in every framing, 101s, prototype-named fields: relayed, cut or refused as the normal path would; nothing hangs or stays open', { timeout: 60_000 }, async () => {
    const runs = Math.min(RUNS, 160);
    const origin = await startRawOrigin((socket, all) => {
      const end = all.indexOf('\r\n\r\n');
      if (end < 0 || socket.bytesWritten > 0) return;
      const index = Number(/^GET \/case\/(\d+) /.exec(all.toString('latin1'))?.[1] ?? -1);
      const c = upgradeCase(SEED, index);
      if (c.fin) socket.end(c.answer);
      else socket.write(c.answer);
    });
    const proxy = await startProxy({ upstream: { responseTimeout: 3000 } }, 'warn');
    const failures: string[] = [];
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < runs) {
          const index = next++;
          const c = upgradeCase(SEED, index);
          const where = `case ${index} (${c.name}, expect ${c.expect})`;
          const client = await RawClient.connect(proxy.port);
          try {
            const extra = c.requestFields.map(([n, v]) => `${n}: ${v}\r\n`).join('');
            client.write(
              `GET ws://127.0.0.1:${origin.port}/case/${index} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
                `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`,
            );
            const res = await client.readResponse({ ms: 5000, head: c.expect === 'switch' });
            if (res.status !== c.status) failures.push(`${where}: status ${res.status}`);
            if (c.expect === 'relay' && (!res.complete || res.body.toString('latin1') !== c.body)) failures.push(`${where}: body ${JSON.stringify(res.body.toString('latin1'))} complete=${res.complete}`);
            if (c.expect === 'cut' && res.complete && c.body !== '') failures.push(`${where}: a cut body looked complete`);
            if (c.expect === 'relay' || c.expect === 'switch' || c.expect === 'cut') {
              for (const [n, v] of c.fields) if (!header(res, n).includes(v)) failures.push(`${where}: field ${n}: ${v} missing`);
            }
            if (c.expect === 'switch') client.close();
            else await client.waitClosed(5000);
          } catch (err) {
            failures.push(`${where}: ${(err as Error).message}`);
          } finally {
            client.close();
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      // Prototype-named request fields reached the origin exactly once each, as sent.
      for (const bytes of origin.received) {
        const text = bytes.toString('latin1');
        const index = Number(/^GET \/case\/(\d+) /.exec(text)?.[1] ?? -1);
        for (const [n, v] of upgradeCase(SEED, index).requestFields) {
          const count = text.split('\r\n').filter((l) => l === `${n}: ${v}`).length;
          const sent = upgradeCase(SEED, index).requestFields.filter(([m, w]) => m === n && w === v).length;
          if (count !== sent) failures.push(`case ${index}: request field ${n}: ${v} arrived ${count} times, sent ${sent}`);
        }
      }
      expect(failures, `seed ${SEED}`).toEqual([]);
      // Every socket released on both legs.
      await eventually(() => proxy.stats().tunnels.active === 0 && proxy.stats().downstream.connectionsActive === 0, 5000, 'every client connection and tunnel to close');
      await eventually(() => origin.sockets.every((s) => s.closed), 5000, 'every origin socket to be closed by the proxy');
    } finally {
      await proxy.close();
      await origin.close();
    }
  });
});
