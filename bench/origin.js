// Benchmark origin: a minimal http.createServer, run in its own child process (see run.js for pinning).
// `/` answers a small fixed body; `/bytes/N` streams N bytes with back-pressure; `/delay/MS` answers the small body
// after MS milliseconds (the pool warm-up holds N requests in flight at once with it). It counts accepted TCP connections
// and requests and reports them over the IPC channel, so the harness can measure how many upstream connections a
// proxy opened per request (scenario b) without adding a control connection to the very count it measures.
import http from 'node:http';
import { lifeline, parsePortArg } from './lib/child.js';

const SMALL_BODY = Buffer.from('hello from the bench origin\n');
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const MAX_BYTES = 1024 * 1024 * 1024;
const MAX_DELAY_MS = 10_000;

const counters = { connections: 0, requests: 0, active: 0 };

/**
 * Streams `remaining` bytes in 64 KiB chunks, waiting for 'drain' so memory stays flat for any size.
 * @param {http.ServerResponse} res
 * @param {number} remaining
 */
function streamBytes(res, remaining) {
  while (remaining > 0) {
    const piece = remaining >= CHUNK.length ? CHUNK : CHUNK.subarray(0, remaining);
    remaining -= piece.length;
    if (!res.write(piece)) {
      res.once('drain', () => streamBytes(res, remaining));
      return;
    }
  }
  res.end();
}

const server = http.createServer((req, res) => {
  counters.requests += 1;
  const match = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
  if (match) {
    const size = Math.min(Number(match[1]), MAX_BYTES);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    streamBytes(res, size);
    return;
  }
  const delay = /^\/delay\/(\d+)$/.exec(req.url ?? '');
  const answer = () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': SMALL_BODY.length });
    res.end(SMALL_BODY);
  };
  if (delay) setTimeout(answer, Math.min(Number(delay[1]), MAX_DELAY_MS));
  else answer();
});

server.on('connection', (socket) => {
  counters.connections += 1;
  counters.active += 1;
  socket.once('close', () => {
    counters.active -= 1;
  });
});

process.on('message', (/** @type {{ id: number, cmd: string }} */ msg) => {
  if (msg.cmd === 'stats') process.send?.({ id: msg.id, stats: { ...counters } });
});

lifeline(() => server.close());
server.listen(parsePortArg(), '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`origin listening on 127.0.0.1:${address.port}`);
});
