/**
 * SPEC §10.2 through the real entry point (`main`): bad configuration fails fast with the offending key and exit 2;
 * a port already in use is a runtime failure, exit 1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { useCleanup } from '../helpers/cleanup.js';
import { captureIo } from '../helpers/cli.js';
import { holdAdminPortOfFreeProxyPort, holdPort } from '../helpers/ports.js';

const { defer } = useCleanup();

async function runMain(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(argv, { env, stdout: io.stdout, stderr: io.stderr });
  return { code, out: io.out(), err: io.err() };
}

function configFile(content: string, name = 'hopwise.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'hopwise-cli-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

describe('exit codes (SPEC §10.2)', () => {
  it.each([
    [['--port', 'abc'], /--port/],
    [['--mode', 'reverse'], /mode/],
    [['--bogus'], /bogus/],
    [['--flows-size', '-1'], /flows-size/],
    [['--flows-size', '1.5'], /flows-size/],
  ])('%j → exit 2 naming the problem', async (argv, message) => {
    const r = await runMain(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it.each(['-1', '2.5', '"big"'])('flows.size %s in the config file → exit 2 naming flows.size', async (value) => {
    const r = await runMain(['--config', configFile(`{"flows": {"size": ${value}}}`)]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('flows.size');
  });

  it('an unknown nested key in the config file → exit 2 with its dotted path', async () => {
    const r = await runMain(['--config', configFile('{"upstream": {"maxSocket": 4}}')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('upstream.maxSocket');
  });

  it('a wrongly typed value in a YAML file → exit 2 with the key and what was expected', async () => {
    const r = await runMain(['--config', configFile('downstream:\n  keepAliveTimeout: "5s"\n', 'hopwise.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('downstream.keepAliveTimeout');
  });

  it('gateway mode without a target → exit 2', async () => {
    const r = await runMain(['--mode', 'gateway']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('target');
  });

  it('a bad HOPWISE_* variable → exit 2', async () => {
    const r = await runMain([], { HOPWISE_PORT: '99999' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('HOPWISE_PORT');
  });

  it('a port already in use → exit 1 with the cause logged', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await runMain(['--port', String(port), '--no-admin', '--log-format', 'json']);
      expect(r.code).toBe(1);
      expect(r.out).toContain('EADDRINUSE');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('the proxy port in use → exit 1 and a hopwise: message naming the proxy listener and --port', async () => {
    const held = await holdPort();
    defer(() => held.close());
    const r = await runMain(['--port', String(held.port), '--no-admin', '--log-format', 'json']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `hopwise: the proxy listener cannot listen on 127.0.0.1:${held.port}: the address is already in use (another ` +
        'process, or another hopwise, is listening there). Choose another port with --port N (0 picks a free one), ' +
        'or stop what is listening there.\n',
    );
  });

  it('the admin port (proxy port + 1) in use → exit 1 and a message naming the admin listener and the way out', async () => {
    const { proxyPort, admin } = await holdAdminPortOfFreeProxyPort();
    defer(() => admin.close());
    const r = await runMain(['--port', String(proxyPort), '--log-format', 'json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^hopwise: the admin listener cannot listen on 127\.0\.0\.1:(\d+): the address is already in use/);
    expect(r.err).toContain(`127.0.0.1:${admin.port}:`);
    expect(r.err).toContain('by default the admin port is the proxy port + 1');
    expect(r.err).toContain('--admin-port N');
    expect(r.err).toContain('--no-admin');
    expect(r.err.split('\n')).toHaveLength(2); // one line
  });

  it('--help and --version exit 0', async () => {
    const help = await runMain(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--max-sockets');
    const version = await runMain(['--version']);
    expect(version.code).toBe(0);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
