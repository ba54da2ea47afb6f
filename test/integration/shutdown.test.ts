/**
 * SPEC §10.1 with the real CLI process: SIGTERM/SIGINT stop accepting, close idle connections, let in-flight
 * exchanges finish with Connection: close (up to shutdown.drainTimeout), log the final stats and exit 0.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, portOf } from '../helpers/cli.js';
import type { CliProcess } from '../helpers/cli.js';
import { RawClient, header, within } from '../helpers/raw.js';
import { HANG, okResponse, startScriptedOrigin } from '../helpers/scripted-origin.js';
import type { ScriptedOrigin } from '../helpers/scripted-origin.js';

let cli: CliProcess | undefined;
let origin: ScriptedOrigin | undefined;
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  if (cli !== undefined && cli.child.exitCode === null) cli.child.kill('SIGKILL');
  await origin?.close();
  cli = origin = undefined;
});

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

async function startHopwise(extra: string[] = []): Promise<number> {
  cli = startCli(['--port', '0', '--admin-port', '0', '--log-format', 'json', '--stats-interval', '0', ...extra]);
  const line = await cli.waitFor((l) => l.event === 'listening');
  return portOf(line.proxy);
}

describe.each(['SIGTERM', 'SIGINT'] as const)('graceful shutdown on %s', (signal) => {
  it('closes idle connections, refuses new ones, finishes the in-flight response with Connection: close, exits 0', async () => {
    let answer: ((s: string) => void) | undefined;
    // The origin answers /held only when the test says so.
    origin = await startScriptedOrigin((req) =>
      req.path === '/held' ? { defer: (send) => (answer = send) } : okResponse('quick'),
    );
    const port = await startHopwise();
    const idle = await RawClient.connect(port);
    const busy = await RawClient.connect(port);
    clients.push(idle, busy);
    idle.write(`GET ${origin.origin}/warm HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect((await idle.readResponse()).body.toString()).toBe('quick');
    busy.write(`GET ${origin.origin}/held HTTP/1.1\r\nHost: x\r\n\r\n`);
    await within(5000, (async () => {
      while (answer === undefined) await new Promise((r) => setTimeout(r, 5));
    })(), 'held request at the origin');
    cli!.child.kill(signal);
    await cli!.waitFor((l) => l.event === 'shutdown');
    await idle.waitClosed();
    expect(await refused(port)).toBe(true);
    answer!(okResponse('finished after the signal'));
    const res = await busy.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('finished after the signal');
    expect(header(res, 'connection')).toEqual(['close']);
    await busy.waitClosed();
    expect(await cli!.exited()).toBe(0);
    // The final statistics are logged at shutdown (SPEC §10.1, §8.3).
    const final = cli!.lines.find((l) => l.event === 'stats-downstream' && l.final === true);
    expect(final?.requests).toBe(2);
    expect(cli!.lines.some((l) => l.event === 'stopped')).toBe(true);
  });
});

describe('drain timeout', () => {
  it('an exchange that does not finish within shutdown.drainTimeout is cut and the process still exits 0', async () => {
    origin = await startScriptedOrigin(() => HANG);
    const port = await startHopwise(['--drain-timeout', '300']);
    const busy = await RawClient.connect(port);
    clients.push(busy);
    busy.write(`GET ${origin.origin}/never HTTP/1.1\r\nHost: x\r\n\r\n`);
    await within(5000, (async () => {
      while (origin.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    })(), 'request at the origin');
    const t0 = performance.now();
    cli!.child.kill('SIGTERM');
    await busy.waitClosed();
    expect(await cli!.exited()).toBe(0);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(5000);
  });
});
