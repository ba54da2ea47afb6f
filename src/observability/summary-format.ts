/**
 * Human rendering of the `stats-downstream` / `stats-upstream` summary entries for the pretty log format (issue 4:
 * "at a glance and in numbers"). Pure: structured fields in, text out. JSON logs keep the raw fields.
 */

/** More origins than this are summarised as "… N more" in pretty output (the JSON entry keeps them all). */
const MAX_ORIGIN_LINES = 20;

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** `client-closed 7, idle-timeout 3`, largest first; `none` when empty. */
export function formatReasons(v: unknown): string {
  const entries = Object.entries(obj(v))
    .map(([k, n]) => [k, num(n)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(', ');
}

/** `1.5 KiB`: bytes in the largest unit that keeps the number at least 1, one decimal beyond bytes. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** `tunnels: 3 opened (1 active) · 1.5 KiB in, 20.0 KiB out · closed: client-closed 2`; empty when none opened. */
export function formatTunnels(v: unknown): string {
  const t = obj(v);
  if (num(t.opened) === 0) return '';
  return (
    `tunnels: ${num(t.opened)} opened (${num(t.active)} active) · ${formatBytes(num(t.bytesIn))} in, ` +
    `${formatBytes(num(t.bytesOut))} out · closed: ${formatReasons(t.closed)}`
  );
}

/**
 * `10 connections (2 active) · 100 requests · 10 req/conn (max 12) · closed: client-closed 8`, then the tunnels on
 * an indented line of their own when any were opened.
 */
export function formatDownstreamSummary(f: Readonly<Record<string, unknown>>): string {
  const per = obj(f.requestsPerConnection);
  const tunnels = formatTunnels(f.tunnels);
  const head = [
    `${plural(num(f.connectionsAccepted), 'connection')} (${num(f.connectionsActive)} active)`,
    plural(num(f.requests), 'request'),
    `${num(per.mean)} req/conn (max ${num(per.max)})`,
    `closed: ${formatReasons(f.closed)}`,
  ].join(' · ');
  return tunnels === '' ? head : `${head}\n    ${tunnels}`;
}

/**
 * A headline line for all origins, then one indented line per origin (busiest first):
 * `  http://127.0.0.1:9000  4 sockets (3 active, 2 idle) · 100 requests · 96 reused (96.0%) · closed: idle-timeout 1`
 */
export function formatUpstreamSummary(f: Readonly<Record<string, unknown>>): string {
  const origins = Object.entries(obj(f.origins))
    .map(([origin, v]) => [origin, obj(v)] as const)
    .sort((a, b) => num(b[1].requests) - num(a[1].requests) || a[0].localeCompare(b[0]));
  const head = [
    plural(origins.length, 'origin'),
    `${plural(num(f.socketsCreated), 'socket')} created (${num(f.socketsActive)} open)`,
    plural(num(f.requests), 'request'),
    `${num(f.reusedRequests)} reused (${percent(num(f.reuseRatio))})`,
  ].join(' · ');
  const lines = origins.slice(0, MAX_ORIGIN_LINES).map(
    ([origin, o]) =>
      `\n    ${origin}  ${plural(num(o.socketsCreated), 'socket')} (${num(o.socketsActive)} active, ${num(o.socketsIdle)} idle)` +
      ` · ${plural(num(o.requests), 'request')} · ${num(o.reusedRequests)} reused (${percent(num(o.reuseRatio))})` +
      ` · closed: ${formatReasons(o.closed)}`,
  );
  if (origins.length > MAX_ORIGIN_LINES) lines.push(`\n    … ${origins.length - MAX_ORIGIN_LINES} more origins`);
  return head + lines.join('');
}

/** The pretty body for a summary event, or undefined for any other event. */
export function formatSummary(event: string, f: Readonly<Record<string, unknown>>): string | undefined {
  const final = f.final === true ? ' (final)' : '';
  if (event === 'stats-downstream') return `${event}${final} ${formatDownstreamSummary(f)}`;
  if (event === 'stats-upstream') return `${event}${final} ${formatUpstreamSummary(f)}`;
  return undefined;
}
