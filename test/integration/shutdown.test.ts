/**
 * SPEC §10.1 with the real CLI process: SIGTERM/SIGINT stop accepting, close idle connections, let in-flight
 * exchanges finish with Connection: close (up to shutdown.drainTimeout), log the final stats and exit 0.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startCli, portOf } from '../helpers/cli.js';
import type { CliProcess } from '../helpers/cli.js';
import { RawClient, header, within } from '../helpers/raw.js';
import { HANG, okResponse, startScriptedOrigin } from '../helpers/scripted-origin.js';

const { track, defer } = useCleanup();

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

async function startHopwise(extra: string[] = []): Promise<{ cli: CliProcess; port: number }> {
  const cli = startCli(['--port', '0', '--admin-port', '0', '--log-format', 'json', '--stats-interval', '0', ...extra]);
  defer(() => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  });
  const line = await cli.waitFor((l) => l.event === 'listening');
  return { cli, port: portOf(line.proxy) };
}

describe.each(['SIGTERM', 'SIGINT'] as const)('graceful shutdown on %s', (signal) => {
  it('closes idle connections, refuses new ones, finishes the in-flight response with Connection: close, exits 0', async () => {
    let answer: ((s: string) => void) | undefined;
    // The origin answers /held only when the test says so.
    const origin = track(await startScriptedOrigin((req) =>
      req.path === '/held' ? { defer: (send) => (answer = send) } : okResponse('quick'),
    ));
    const { cli, port } = await startHopwise();
    const idle = track(await RawClient.connect(port));
    const busy = track(await RawClient.connect(port));
    idle.write(`GET ${origin.origin}/warm HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect((await idle.readResponse()).body.toString()).toBe('quick');
    busy.write(`GET ${origin.origin}/held HTTP/1.1\r\nHost: x\r\n\r\n`);
    await within(5000, (async () => {
      while (answer === undefined) await new Promise((r) => setTimeout(r, 5));
    })(), 'held request at the origin');
    cli.child.kill(signal);
    await cli.waitFor((l) => l.event === 'shutdown');
    await idle.waitClosed();
    expect(await refused(port)).toBe(true);
    answer!(okResponse('finished after the signal'));
    const res = await busy.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('finished after the signal');
    expect(header(res, 'connection')).toEqual(['close']);
    await busy.waitClosed();
    expect(await cli.exited()).toBe(0);
    // The final statistics are logged at shutdown (SPEC §10.1, §8.3).
    const final = cli.lines.find((l) => l.event === 'stats-downstream' && l.final === true);
    expect(final?.requests).toBe(2);
    expect(cli.lines.some((l) => l.event === 'stopped')).toBe(true);
  });
});

describe('drain timeout', () => {
  it('an exchange that does not finish within shutdown.drainTimeout is cut and the process still exits 0', async () => {
    const origin = track(await startScriptedOrigin(() => HANG));
    const { cli, port } = await startHopwise(['--drain-timeout', '300']);
    const busy = track(await RawClient.connect(port));
    busy.write(`GET ${origin.origin}/never HTTP/1.1\r\nHost: x\r\n\r\n`);
    await within(5000, (async () => {
      while (origin.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    })(), 'request at the origin');
    const t0 = performance.now();
    cli.child.kill('SIGTERM');
    await busy.waitClosed();
    expect(await cli.exited()).toBe(0);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(5000);
  });
});
