/**
 * `--allow-client CIDR` (repeatable) and `HOPWISE_ACCESS_CLIENTS` (a comma list) set `access.clients` for the real
 * CLI; listening beyond loopback without them says how to give them.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { useCleanup } from '../helpers/cleanup.js';
import { captureIo, portOf, startCli } from '../helpers/cli.js';
import { startOrigin } from '../helpers/origin.js';

const { track, defer } = useCleanup();

/** One absolute-form GET through the proxy; resolves with the status. */
function get(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: target, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

async function proxyWith(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const cli = startCli([...args, '--port', '0', '--no-admin', '--log-format', 'json'], { env });
  defer(async () => {
    if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
    await cli.exited(15_000);
  });
  return portOf((await cli.waitFor((l) => l.event === 'listening', 15_000)).proxy);
}

describe('access.clients from the command line and the environment', () => {
  it('--allow-client replaces the loopback default: a loopback client is refused unless it is listed too', async () => {
    const origin = track(await startOrigin());
    const elsewhere = await proxyWith(['--allow-client', '10.0.0.0/8']);
    expect(await get(elsewhere, `${origin.url}/x`)).toBe(403);
    const both = await proxyWith(['--allow-client', '10.0.0.0/8', '--allow-client', '127.0.0.1']);
    expect(await get(both, `${origin.url}/x`)).toBe(200);
  });

  it('HOPWISE_ACCESS_CLIENTS is a comma list', async () => {
    const origin = track(await startOrigin());
    const elsewhere = await proxyWith([], { HOPWISE_ACCESS_CLIENTS: '10.0.0.0/8, 192.168.0.0/16' });
    expect(await get(elsewhere, `${origin.url}/x`)).toBe(403);
    const listed = await proxyWith([], { HOPWISE_ACCESS_CLIENTS: '10.0.0.0/8,127.0.0.0/8' });
    expect(await get(listed, `${origin.url}/x`)).toBe(200);
  });

  it('--host 0.0.0.0 without a client rule exits 2 and names --allow-client and HOPWISE_ACCESS_CLIENTS', async () => {
    const io = captureIo();
    const code = await main(['--host', '0.0.0.0', '--port', '0', '--no-admin'], { env: {}, stdout: io.stdout, stderr: io.stderr });
    expect(code).toBe(2);
    expect(io.err()).toContain('access.clients: listening on 0.0.0.0 (beyond loopback) requires an explicit access rule');
    expect(io.err()).toContain('--allow-client 10.0.0.0/8 (repeatable)');
    expect(io.err()).toContain('HOPWISE_ACCESS_CLIENTS=');
    expect(io.err()).not.toContain('SPEC');
  });
});
