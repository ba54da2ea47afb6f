#!/usr/bin/env node
// `node bench/syscalls.js [--target hopwise|undici-minimal] [--close] [--requests N] [--clients N]`: system calls
// per request made by one proxy process, counted with `strace -c -f` (issue 8's evidence that the keep-alive hot
// path makes no extra system calls, and what a `Connection: close` client costs per connection). Starts its own
// origin and target on loopback, warms up with 500 requests, then counts N requests from raw `net` clients. Needs
// `strace` (Debian package `strace`) and, for hopwise, `npm run build` first. Bounded: every phase has a time limit.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, waitForPort } from './lib/net.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'hopwise' },
    close: { type: 'boolean', default: false },
    requests: { type: 'string', default: '3000' },
    clients: { type: 'string', default: '20' },
  },
});
const REQUESTS = Number(values.requests);
const CLIENTS = Number(values.clients);
/** @type {Record<string, (port: number) => [string, string[]]>} */
const COMMANDS = {
  hopwise: (port) => ['node', [path.join(ROOT, 'bin/hopwise.js'), '--port', String(port), '--no-admin', '--log-level', 'error', '--no-access-log', '--stats-interval', '0']],
  'undici-minimal': (port) => ['node', [path.join(ROOT, 'bench/targets/undici-minimal.js'), '--port', String(port)]],
};
if (!(values.target in COMMANDS)) throw new Error(`--target must be one of ${Object.keys(COMMANDS).join(', ')}`);
if (spawnSync('strace', ['-V']).status !== 0) {
  console.error('strace is not installed (apt-get install strace)');
  process.exit(2);
}

const body = Buffer.from('hello from the bench origin!');
const origin = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
});
await new Promise((resolve) => origin.listen(0, '127.0.0.1', () => resolve(undefined)));
const originPort = /** @type {net.AddressInfo} */ (origin.address()).port;
const proxyPort = await freePort();

/**
 * `total` requests through the proxy from `CLIENTS` raw clients; resolves when all answered (bounded).
 * @param {number} total
 * @returns {Promise<void>}
 */
function load(total) {
  const request = `GET http://127.0.0.1:${originPort}/ HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\n${values.close ? 'Connection: close\r\n' : ''}\r\n`;
  let started = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`load: ${done}/${total} answered in 60 s`)), 60_000);
    const finish = () => {
      if (++done === total) {
        clearTimeout(timer);
        resolve(undefined);
      }
    };
    const closeClient = () => {
      if (started >= total) return;
      started++;
      const s = net.connect(proxyPort, '127.0.0.1', () => s.write(request));
      s.on('data', () => {});
      s.on('error', reject);
      s.on('close', () => {
        finish();
        closeClient();
      });
    };
    const keepAliveClient = () => {
      const s = net.connect(proxyPort, '127.0.0.1');
      let seen = '';
      const send = () => {
        if (started >= total) s.end();
        else {
          started++;
          s.write(request);
        }
      };
      s.on('connect', send);
      s.on('error', reject);
      s.on('data', (d) => {
        seen += d.toString('latin1');
        const end = seen.indexOf('bench origin!');
        if (end === -1) return;
        seen = seen.slice(end + 13);
        finish();
        send();
      });
    };
    for (let i = 0; i < CLIENTS; i++) (values.close ? closeClient : keepAliveClient)();
  });
}

const [cmd, args] = /** @type {(port: number) => [string, string[]]} */ (COMMANDS[values.target])(proxyPort);
const target = spawn(cmd, args, { stdio: 'ignore' });
const dir = mkdtempSync(path.join(tmpdir(), 'hopwise-syscalls-'));
/** @type {import('node:child_process').ChildProcess | undefined} */
let strace;
try {
  await waitForPort(proxyPort, 15_000, () => (target.exitCode !== null ? `${values.target} exited (${target.exitCode})` : null));
  await load(500);
  const out = path.join(dir, 'strace.txt');
  strace = spawn('strace', ['-c', '-f', '-p', String(target.pid), '-o', out], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500)); // strace has no readiness signal; it attaches well within this
  await load(REQUESTS);
  const tracer = strace;
  const exited = new Promise((r) => tracer.once('exit', r));
  tracer.kill('SIGINT');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  const rows = readFileSync(out, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && /^\d+$/.test(f[3] ?? ''))
    .map((f) => ({ name: f[f.length - 1] ?? '?', perRequest: Number(f[3]) / REQUESTS }))
    .sort((a, b) => b.perRequest - a.perRequest);
  console.log(`${values.target}, ${values.close ? 'Connection: close' : 'keep-alive'} clients: system calls per request (${REQUESTS} requests, ${CLIENTS} clients)`);
  for (const r of rows.filter((x) => x.perRequest >= 0.005)) console.log(`${r.name.padEnd(14)} ${r.perRequest.toFixed(2)}`);
} finally {
  strace?.kill('SIGKILL');
  target.kill('SIGKILL');
  origin.close();
  origin.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
}
