/**
 * Reading a proxy's admin listener over real HTTP, and bounded waiting for a condition that has no event of its own
 * (a counter reaching a value: stats are updated when a response's 'close' fires, not when the client sees its end).
 */
import type { StatsSnapshot } from '../../src/observability/stats.js';

/** GET an admin path; returns status, content type and body text. */
export async function adminGet(adminPort: number, path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

export async function fetchStats(adminPort: number): Promise<StatsSnapshot> {
  const r = await adminGet(adminPort, '/stats');
  if (r.status !== 200) throw new Error(`/stats answered ${r.status}`);
  return JSON.parse(r.body) as StatsSnapshot;
}

/**
 * Poll `probe` until `done(value)` holds or `ms` elapse; resolves with the last value either way, so the caller's
 * exact assertions report what was actually seen.
 */
export async function eventually<T>(probe: () => T | Promise<T>, done: (v: T) => boolean, ms = 5000, every = 20): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() >= deadline) return v;
    await new Promise((r) => setTimeout(r, every));
  }
}

/** /stats once the proxy is quiet: `requests` answered downstream and no upstream socket busy. */
export function settledStats(adminPort: number, requests: number): Promise<StatsSnapshot> {
  return eventually(
    () => fetchStats(adminPort),
    (s) => s.downstream.requests >= requests && s.upstream.totals.socketsBusy === 0,
  );
}
