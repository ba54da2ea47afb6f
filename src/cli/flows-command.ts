/**
 * `hopwise flows` (issue 14): recent flows from a running proxy's admin `/flows`, as a table (newest last, like a
 * log), as JSON with `--json`, streamed with `--follow` (polls `/flows?after=ID`), or saved as HAR 1.2 with
 * `--har FILE`. Its yargs options and its run function live here together, so the command is one file plus one line
 * in args.ts. Exit codes follow main.ts: 0 done, 1 the admin listener could not be reached or answered an error.
 */
import { writeFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { renderTable, type StatsCommandIO } from './stats-command.js';

/** `hopwise flows`. */
export interface FlowsArgs {
  readonly command: 'flows';
  readonly adminUrl: string;
  readonly json: boolean;
  readonly follow: boolean;
  readonly harFile?: string;
  readonly limit: number;
}

/** The brief flow JSON of `/flows` (the fields the table shows). */
interface BriefFlow {
  readonly id: number;
  readonly kind: string;
  readonly startedAt: string;
  readonly client: { readonly conn: number; readonly connReq: number };
  readonly request: { readonly method: string; readonly target: string };
  readonly upstream: { readonly socket: number | null; readonly reused: boolean; readonly socketReq: number | null };
  readonly status: number;
  readonly timings: { readonly total: number };
  readonly outcome: string;
  readonly error: string | null;
}

function url(flag: string, raw: unknown): string {
  const s = typeof raw === 'string' ? raw : '';
  if (!URL.canParse(s) || !['http:', 'https:'].includes(new URL(s).protocol)) {
    throw new Error(`${flag}: expected an http:// or https:// URL such as http://127.0.0.1:8081, got ${JSON.stringify(raw)}`);
  }
  return s;
}

/** The yargs options of `hopwise flows`. */
export function flowsBuilder(y: Argv): Argv {
  return y.options({
    admin: { describe: "URL of the proxy's admin listener", defaultDescription: 'http://127.0.0.1:8081', requiresArg: true, coerce: (r: unknown) => url('--admin', r) },
    json: { type: 'boolean', describe: 'print the flows as JSON (newest first)' },
    follow: { type: 'boolean', alias: 'f', describe: 'keep printing new flows as they complete' },
    har: {
      describe: 'write every kept flow to FILE as HAR 1.2 instead of printing',
      requiresArg: true,
      coerce: (r: unknown) => {
        if (typeof r !== 'string' || r === '') throw new Error('--har needs a file name');
        return r;
      },
    },
    limit: {
      describe: 'flows printed at most',
      defaultDescription: '50',
      requiresArg: true,
      coerce: (r: unknown) => {
        if (typeof r !== 'string' || !/^[1-9]\d{0,5}$/.test(r)) throw new Error(`--limit: expected a positive integer, got ${JSON.stringify(r)}`);
        return Number(r);
      },
    },
  });
}

/** yargs' parsed (and coerced) options → {@link FlowsArgs}. */
export function toFlowsArgs(a: Record<string, unknown>, defaultAdmin: string): FlowsArgs {
  const har = a['har'];
  return {
    command: 'flows',
    adminUrl: (a['admin'] as string | undefined) ?? defaultAdmin,
    json: a['json'] === true,
    follow: a['follow'] === true,
    limit: typeof a['limit'] === 'number' ? a['limit'] : 50,
    ...(typeof har === 'string' && { harFile: har }),
  };
}

function under(adminUrl: string, path: string): string {
  return new URL(path, adminUrl.endsWith('/') ? adminUrl : `${adminUrl}/`).href;
}

function ms(n: number): string {
  return n < 0 ? '-' : n < 10 ? n.toFixed(1) : String(Math.round(n));
}

/** Table rows for flows (pure), oldest first. */
export function formatFlowRows(flows: readonly BriefFlow[], header: boolean): string[] {
  const rows = flows
    .slice()
    .reverse()
    .map((f) => [
      String(f.id),
      f.startedAt.slice(11, 23),
      f.request.method,
      f.request.target,
      f.status === 0 ? '-' : String(f.status),
      `${f.client.conn}#${f.client.connReq}`,
      f.upstream.socket === null ? '-' : `${f.upstream.socket}#${f.upstream.socketReq ?? '?'}`,
      f.kind !== 'http' ? f.kind : f.upstream.socket === null ? '-' : f.upstream.reused ? 'reused' : 'new',
      ms(f.timings.total),
      f.error ?? f.outcome,
    ]);
  const head = ['ID', 'TIME', 'METHOD', 'URL', 'STATUS', 'CLIENT', 'SOCKET', 'CONN', 'MS', 'OUTCOME'];
  const align = ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'left', 'right', 'left'] as const;
  return renderTable(header ? [head, ...rows] : rows, align);
}

async function get(target: string, timeoutMs: number): Promise<string> {
  const res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  const body = await res.text();
  if (!res.ok) throw new Error(`${target} answered ${res.status}: ${body.trim()}`);
  return body;
}

/** Run `hopwise flows`; resolves with the exit code. `signal` ends `--follow` (main wires SIGINT to it). */
export async function flowsCommand(
  args: Omit<FlowsArgs, 'command'>,
  io: StatsCommandIO,
  opts: { timeoutMs?: number; signal?: AbortSignal; pollMs?: number } = {},
): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  try {
    if (args.harFile !== undefined) {
      const har = await get(under(args.adminUrl, 'flows.har'), timeoutMs);
      await writeFile(args.harFile, har);
      const n = (JSON.parse(har) as { log: { entries: unknown[] } }).log.entries.length;
      io.stdout.write(`wrote ${n} flows to ${args.harFile} (HAR 1.2)\n`);
      return 0;
    }
    let flows = JSON.parse(await get(under(args.adminUrl, `flows?limit=${args.limit}`), timeoutMs)) as BriefFlow[];
    if (!args.follow) {
      io.stdout.write(args.json ? `${JSON.stringify(flows, null, 2)}\n` : `${formatFlowRows(flows, true).join('\n')}\n`);
      return 0;
    }
    // --follow: oldest first, one line (or one JSON object per line) per flow as it completes.
    let last = 0;
    let header = !args.json;
    for (;;) {
      if (args.json) for (const f of flows.slice().reverse()) io.stdout.write(`${JSON.stringify(f)}\n`);
      else if (flows.length > 0 || header) io.stdout.write(`${formatFlowRows(flows, header).join('\n')}\n`);
      header = false;
      last = flows[0]?.id ?? last;
      if (!(await pause(opts.pollMs ?? 500, opts.signal))) return 0;
      flows = JSON.parse(await get(under(args.adminUrl, `flows?after=${last}&limit=1000`), timeoutMs)) as BriefFlow[];
    }
  } catch (err) {
    io.stderr.write(`hopwise: ${(err as Error).message}\n`);
    return 1;
  }
}

/** Waits `ms`; false if `signal` aborted first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve(true);
    }, ms);
    const stop = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** Runs `body` with a signal that SIGINT aborts (so `--follow` ends with exit 0 on Ctrl-C). */
export async function followUntilSigint(body: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  try {
    return await body(ac.signal);
  } finally {
    process.off('SIGINT', stop);
  }
}
