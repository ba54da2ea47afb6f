#!/usr/bin/env node
// `node bench/idle-tunnels.js [--tunnels N] [--reply BYTES] [--read-buffer BYTES]`: hopwise's resident memory per
// idle CONNECT tunnel. Starts hopwise (`npm run build` first) with `tunnel.readBufferSize` = --read-buffer, opens N
// tunnels to a loopback origin that answers each one's first bytes with --reply bytes, waits until every reply has
// arrived, then reads hopwise's VmRSS (issue 8: the price of the reused tunnel read buffer). Bounded: 60 s in all.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, waitForPort } from './lib/net.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    tunnels: { type: 'string', default: '1000' },
    reply: { type: 'string', default: '2048' },
    'read-buffer': { type: 'string', default: '65536' },
  },
});
const TUNNELS = Number(values.tunnels);
const reply = Buffer.alloc(Number(values.reply), 98);
const deadline = setTimeout(() => {
  console.error('idle-tunnels: gave up after 60 s');
  process.exit(1);
}, 60_000);

/** @param {number} pid @returns {number} KiB */
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

const origin = net.createServer((s) => {
  s.on('error', () => {});
  s.once('data', () => s.write(reply));
});
await new Promise((resolve) => origin.listen(0, '127.0.0.1', () => resolve(undefined)));
const originPort = /** @type {net.AddressInfo} */ (origin.address()).port;
const proxyPort = await freePort();
const dir = mkdtempSync(path.join(tmpdir(), 'hopwise-idle-tunnels-'));
const config = path.join(dir, 'config.json');
writeFileSync(config, JSON.stringify({ tunnel: { readBufferSize: Number(values['read-buffer']) } }));
const hopwise = spawn('node', [path.join(ROOT, 'bin/hopwise.js'), '--config', config, '--port', String(proxyPort), '--no-admin',
  '--log-level', 'error', '--no-access-log', '--stats-interval', '0'], { stdio: ['ignore', 'ignore', 'inherit'] });
/** @type {net.Socket[]} */
const sockets = [];

/** One tunnel that has received the whole reply. */
function tunnel() {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\n\r\n`));
    sockets.push(s);
    let head = true;
    let got = 0;
    s.on('error', reject);
    s.on('data', (d) => {
      let data = d;
      if (head) {
        const end = data.indexOf('\r\n\r\n');
        if (end === -1) return reject(new Error('a CONNECT response head in more than one read'));
        if (!data.subarray(0, 12).toString().startsWith('HTTP/1.1 200')) return reject(new Error(data.toString().split('\r\n')[0]));
        head = false;
        data = data.subarray(end + 4);
        s.write('hi');
      }
      got += data.length;
      if (got >= reply.length) resolve(undefined);
    });
  });
}

try {
  await waitForPort(proxyPort, 15_000, () => (hopwise.exitCode !== null ? `hopwise exited (${hopwise.exitCode})` : null));
  const before = rss(/** @type {number} */ (hopwise.pid));
  for (let i = 0; i < TUNNELS; i += 100) await Promise.all(Array.from({ length: Math.min(100, TUNNELS - i) }, tunnel));
  const after = rss(/** @type {number} */ (hopwise.pid));
  console.log(`tunnel.readBufferSize ${values['read-buffer']}: ${TUNNELS} idle tunnels after a ${reply.length}-byte reply each: ` +
    `RSS ${before} → ${after} KiB, ${((after - before) / TUNNELS).toFixed(1)} KiB per tunnel`);
} finally {
  clearTimeout(deadline);
  for (const s of sockets) s.destroy();
  hopwise.kill('SIGKILL');
  origin.close();
  rmSync(dir, { recursive: true, force: true });
}
