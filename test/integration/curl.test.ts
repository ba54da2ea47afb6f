/**
 * The README's promise: `curl -x http://127.0.0.1:PORT http://origin/...` works. Real curl, real sockets.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';

const run = promisify(execFile);
const CURL = '/usr/bin/curl';
const hasCurl = existsSync(CURL);

const { track } = useCleanup();

describe.skipIf(!hasCurl)(`curl -x${hasCurl ? '' : ` (skipped: ${CURL} not installed)`}`, () => {
  it('fetches through the proxy; two URLs reuse one client connection and one upstream socket', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const { stdout, stderr } = await run(
      CURL,
      ['-sS', '-v', '--max-time', '10', '-x', proxy.url, `${origin.url}/one`, `${origin.url}/two`],
      { timeout: 15_000 },
    );
    expect(stdout).toBe('hello GET /one\nhello GET /two\n');
    expect(stderr).toMatch(/< Via: 1\.1 hopwise/);
    const s = proxy.stats();
    expect(s.downstream.connectionsAccepted).toBe(1);
    expect(s.downstream.requests).toBe(2);
    expect(s.upstream.totals.socketsCreated).toBe(1);
    expect(s.upstream.totals.reusedRequests).toBe(1);
    expect(origin.seen.map((r) => r.url)).toEqual(['/one', '/two']);
  });
});
