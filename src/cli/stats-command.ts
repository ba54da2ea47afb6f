/**
 * `hopwise stats` (issue 4): read a running proxy's admin `/stats` and print it as a table, or as raw JSON with
 * `--json`. Exit codes follow main.ts: 0 printed, 1 the admin listener could not be reached or answered nonsense.
 */
import { formatReasons } from '../observability/summary-format.js';
import type { StatsSnapshot, UpstreamStats } from '../observability/stats.js';
import type { StatsArgs } from './args.js';

/** Where `hopwise stats` writes: the table or JSON to stdout, problems to stderr. */
export interface StatsCommandIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** `http://host:port` or `http://host:port/prefix/` → the `/stats` URL under it. */
export function statsUrl(adminUrl: string): string {
  return new URL('stats', adminUrl.endsWith('/') ? adminUrl : `${adminUrl}/`).href;
}

type Align = 'left' | 'right';

/** Pad columns to their widest cell; numbers right-aligned so digits line up. */
export function renderTable(rows: readonly (readonly string[])[], align: readonly Align[]): string[] {
  const widths = align.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (align[c] === 'right' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

function duration(seconds: number): string {
  const s = Math.floor(seconds);
  const parts = [Math.floor(s / 3600) && `${Math.floor(s / 3600)}h`, Math.floor((s % 3600) / 60) && `${Math.floor((s % 3600) / 60)}m`, `${s % 60}s`];
  return parts.filter(Boolean).join(' ');
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

function originRow(name: string, u: UpstreamStats): string[] {
  // Failed connects are also failed exchanges (UPSTREAM_REFUSED, ...): counted once, in `errors`.
  const errors = Object.values(u.errors).reduce((a, b) => a + b, 0);
  return [
    name,
    String(u.socketsCreated),
    String(u.socketsActive),
    String(u.socketsIdle),
    String(u.requests),
    String(u.reusedRequests),
    pct(u.reuseRatio),
    String(u.staleRetries),
    String(errors),
    formatReasons(u.socketsClosed),
  ];
}

/** The human table for a snapshot (pure). */
export function formatStatsTable(s: StatsSnapshot, source: string): string {
  const d = s.downstream;
  const out = [
    `hopwise stats from ${source} · up ${duration(s.uptimeSeconds)}`,
    '',
    'Downstream (clients → proxy)',
    `  connections  ${d.connectionsAccepted} accepted · ${d.connectionsActive} open · closed: ${formatReasons(d.connectionsClosed)}`,
    `  requests     ${d.requests} · ${d.requestsPerConnection.mean} per connection (max ${d.requestsPerConnection.max})`,
    '',
    'Upstream (proxy → origins)',
  ];
  const origins = Object.entries(s.upstream.origins).sort(([a], [b]) => a.localeCompare(b));
  if (origins.length === 0) out.push('  no origin contacted yet');
  else {
    const head = ['ORIGIN', 'SOCKETS', 'OPEN', 'IDLE', 'REQUESTS', 'REUSED', 'RATIO', 'RETRIES', 'ERRORS', 'CLOSED'];
    const rows = [head, ...origins.map(([o, u]) => originRow(o, u))];
    if (origins.length > 1) rows.push(originRow('total', s.upstream.totals));
    const align: Align[] = ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'];
    out.push(...renderTable(rows, align).map((l) => `  ${l}`));
  }
  const t = s.tunnels;
  out.push('', `Tunnels  ${t.opened} opened · ${t.active} open · ${t.bytesIn} B in · ${t.bytesOut} B out · closed: ${formatReasons(t.closed)}`);
  return `${out.join('\n')}\n`;
}

function looksLikeStats(v: unknown): v is StatsSnapshot {
  const s = v as Partial<StatsSnapshot> | null;
  return typeof s?.downstream?.connectionsAccepted === 'number' && typeof s.upstream?.totals?.requests === 'number';
}

function reachError(url: string, err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return `cannot reach the admin listener at ${url} (${why}); is the proxy running, and is --admin right? (default: the proxy port + 1)`;
}

/** Run `hopwise stats`; resolves with the exit code. */
export async function statsCommand(
  args: Pick<StatsArgs, 'adminUrl' | 'json'>,
  io: StatsCommandIO,
  opts: { timeoutMs?: number } = {},
): Promise<number> {
  const url = statsUrl(args.adminUrl);
  let body: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5000), headers: { accept: 'application/json' } });
    body = await res.text();
    if (!res.ok) {
      io.stderr.write(`hopwise: ${url} answered ${res.status} ${res.statusText}\n`);
      return 1;
    }
  } catch (err) {
    io.stderr.write(`hopwise: ${reachError(url, err)}\n`);
    return 1;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (!looksLikeStats(parsed)) {
    io.stderr.write(`hopwise: ${url} did not answer with hopwise statistics; is --admin the admin listener?\n`);
    return 1;
  }
  io.stdout.write(args.json ? (body.endsWith('\n') ? body : `${body}\n`) : formatStatsTable(parsed, url));
  return 0;
}
