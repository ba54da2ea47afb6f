/**
 * SPEC §5.1: bodies stream with back-pressure, so the proxy's memory does not grow with body size. 200 MB up and
 * 200 MB down through the real CLI process; its RSS (from /proc) must grow by less than 64 MB over its warmed-up
 * baseline. Bounded: each transfer has a time limit, the test skips where /proc is unavailable.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, portOf } from '../helpers/cli.js';
import type { CliProcess } from '../helpers/cli.js';
import { within } from '../helpers/raw.js';

const SIZE = 200 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
const hasProc = existsSync('/proc/self/status');

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** A readable of `size` bytes made of one reused chunk (the producer itself allocates nothing per chunk). */
function zeros(size: number): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, CHUNK.length);
      left -= n;
      this.push(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
    },
  });
}

let cli: CliProcess;
let origin: http.Server;
let originPort: number;
let proxyPort: number;

beforeAll(async () => {
  origin = http.createServer((req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'Content-Length': String(SIZE) });
      zeros(SIZE).pipe(res);
      return;
    }
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      hash.update(c);
    });
    req.on('end', () => res.end(JSON.stringify({ n, sha: hash.digest('hex') })));
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
  if (!hasProc) return;
  cli = startCli(['--port', '0', '--no-admin', '--log-format', 'json', '--no-access-log', '--stats-interval', '0']);
  proxyPort = portOf((await cli.waitFor((l) => l.event === 'listening')).proxy);
});

afterAll(async () => {
  if (hasProc && cli.child.exitCode === null) {
    cli.child.kill('SIGTERM');
    await cli.exited();
  }
  origin.closeAllConnections();
  await new Promise<void>((r) => origin.close(() => r()));
});

/** Run a transfer while sampling the proxy's RSS every 25 ms; resolves with the peak. */
async function peakDuring(pid: number, transfer: Promise<void>): Promise<number> {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 25);
  try {
    await within(60_000, transfer, 'a 200 MB transfer');
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssBytes(pid));
}

function request(method: string, path: string, body?: Readable): Promise<{ status: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method, path: `http://127.0.0.1:${originPort}${path}`, agent: false });
    req.on('response', (res) => {
      let bytes = 0;
      let text = '';
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (text.length < 200) text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else body.pipe(req);
  });
}

describe.skipIf(!hasProc)(`streaming memory${hasProc ? '' : ' (skipped: no /proc on this platform)'}`, () => {
  it('200 MB download and 200 MB upload grow the proxy RSS by less than 64 MB', async () => {
    const pid = cli.child.pid!;
    // Warm up: JIT, pools, buffers.
    await request('POST', '/upload', zeros(8 * 1024 * 1024));
    await request('GET', '/download');
    const baseline = rssBytes(pid);
    let down = { status: 0, bytes: 0, text: '' };
    const downPeak = await peakDuring(pid, request('GET', '/download').then((r) => void (down = r)));
    let up = { status: 0, bytes: 0, text: '' };
    const upPeak = await peakDuring(pid, request('POST', '/upload', zeros(SIZE)).then((r) => void (up = r)));
    expect(down.status).toBe(200);
    expect(down.bytes).toBe(SIZE);
    expect(up.status).toBe(200);
    expect(JSON.parse(up.text)).toMatchObject({ n: SIZE });
    const growth = Math.max(downPeak, upPeak) - baseline;
    console.log(`proxy RSS baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak growth ${(growth / 2 ** 20).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(64 * 1024 * 1024);
  }, 150_000);
});
