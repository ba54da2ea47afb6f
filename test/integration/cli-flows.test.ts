import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { flowsCommand } from '../../src/cli/flows-command.js';
import { main } from '../../src/cli/main.js';
import { FlowRing } from '../../src/observability/flows.js';
import { useCleanup } from '../helpers/cleanup.js';
import { captureIo } from '../helpers/cli.js';
import { flowsAdmin, sampleFlow } from '../helpers/flows.js';

const { defer } = useCleanup();

describe('hopwise flows (issue 14)', () => {
  it('parses its options; a bad --limit is a usage error', () => {
    expect(parseArgs(['flows', '--admin', 'http://127.0.0.1:9', '--json', '--limit', '5'], {})).toEqual({
      command: 'flows',
      adminUrl: 'http://127.0.0.1:9',
      json: true,
      follow: false,
      limit: 5,
    });
    expect(parseArgs(['flows', '--har', 'x.har'], {})).toMatchObject({ command: 'flows', harFile: 'x.har', adminUrl: 'http://127.0.0.1:8081' });
    expect(parseArgs(['flows', '--limit', '0'], {})).toMatchObject({ command: 'error', exitCode: 2 });
  });

  it('prints a table oldest first, JSON, and writes HAR', async () => {
    const ring = new FlowRing(10);
    ring.add(sampleFlow({ socket: 7, socketReq: 1 }));
    ring.add(sampleFlow({ socket: 7, reused: true, socketReq: 2, connReq: 2 }));
    const admin = await flowsAdmin(ring, defer);
    const t = captureIo();
    expect(await main(['flows', '--admin', admin], { env: {}, stdout: t.stdout, stderr: t.stderr })).toBe(0);
    const lines = t.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s*ID\s+TIME\s+METHOD\s+URL\s+STATUS\s+CLIENT\s+SOCKET\s+CONN\s+MS\s+OUTCOME$/);
    expect(lines[1]).toMatch(/^\s*1 .* 1#1\s+7#1\s+new\s+20\s+ok$/);
    expect(lines[2]).toMatch(/^\s*2 .* 1#2\s+7#2\s+reused\s+20\s+ok$/);

    const j = captureIo();
    expect(await main(['flows', '--admin', admin, '--json'], { env: {}, stdout: j.stdout, stderr: j.stderr })).toBe(0);
    expect((JSON.parse(j.out()) as { id: number }[]).map((f) => f.id)).toEqual([2, 1]);

    const dir = mkdtempSync(join(tmpdir(), 'hopwise-har-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'flows.har');
    const h = captureIo();
    expect(await main(['flows', '--admin', admin, '--har', file], { env: {}, stdout: h.stdout, stderr: h.stderr })).toBe(0);
    expect(h.out()).toContain('wrote 2 flows');
    const har = JSON.parse(readFileSync(file, 'utf8')) as { log: { version: string; entries: { connection: string }[] } };
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.map((e) => e.connection)).toEqual(['7', '7']);
  });

  it('--follow prints new flows as they arrive until stopped', async () => {
    const ring = new FlowRing(10);
    ring.add(sampleFlow());
    const admin = await flowsAdmin(ring, defer);
    const t = captureIo();
    const ac = new AbortController();
    const done = flowsCommand({ adminUrl: admin, json: true, follow: true, limit: 50 }, { stdout: t.stdout, stderr: t.stderr }, { signal: ac.signal, pollMs: 20 });
    ring.add(sampleFlow({ connReq: 2 }));
    // Bounded wait for the second flow to be printed, then stop.
    for (let i = 0; i < 200 && t.out().split('\n').filter(Boolean).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    expect(await done).toBe(0);
    expect(t.out().split('\n').filter(Boolean).map((l: string) => (JSON.parse(l) as { id: number }).id)).toEqual([1, 2]);
  });

  it('exits 1 naming the problem when flows are off', async () => {
    const admin = await flowsAdmin(new FlowRing(0), defer);
    const t = captureIo();
    expect(await main(['flows', '--admin', admin], { env: {}, stdout: t.stdout, stderr: t.stderr })).toBe(1);
    expect(t.err()).toContain('flows are off');
  });
});
