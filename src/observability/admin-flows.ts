/**
 * The flow routes of the admin listener (issue 14): `GET /flows` (JSON, newest first; `?origin=&status=&limit=&after=`),
 * `GET /flows/ID` (one flow with its headers and hop-by-hop diff), `GET /flows.har` (HAR 1.2). An unknown filter is a
 * 400 naming it, an unknown id a 404. Each answer is formatted from one snapshot of the ring.
 */
import type { FlowFilter, FlowRing } from './flows.js';
import { flowJson } from './flow-view.js';
import { toHar } from './har.js';

/** Where the flows come from, for the admin listener. */
export interface FlowSource {
  readonly ring: FlowRing;
  /** `flows.redact`. */
  readonly redact: boolean;
  /** The HAR creator version. */
  readonly version: string;
}

/** One admin answer: status, content type, body. */
export interface AdminAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

const JSON_TYPE = 'application/json';
const TEXT = 'text/plain; charset=utf-8';
const FILTERS: ReadonlySet<string> = new Set(['origin', 'status', 'limit', 'after']);

function text(status: number, body: string): AdminAnswer {
  return { status, type: TEXT, body: `${body}\n` };
}

/** Reads `?origin=&status=&limit=&after=`; an unknown or malformed one is an error message naming it. */
export function parseFlowQuery(query: URLSearchParams): { filter: FlowFilter & { after?: number } } | { error: string } {
  const filter: { origin?: string; status?: string; limit?: number; after?: number } = {};
  for (const [name, value] of query) {
    if (!FILTERS.has(name)) return { error: `unknown filter "${name}": use origin, status, limit or after` };
    if (name === 'origin') filter.origin = value;
    else if (name === 'status') {
      if (!/^(?:[1-5]xx|[1-9]\d\d)$/i.test(value)) return { error: `filter "status" must be a code such as 404 or a class such as 5xx` };
      filter.status = value;
    } else {
      if (!/^\d{1,9}$/.test(value)) return { error: `filter "${name}" must be a non-negative integer` };
      if (name === 'limit') filter.limit = Number(value);
      else filter.after = Number(value);
    }
  }
  return { filter };
}

/** The answer for a `/flows…` path, or undefined when `path` is not one of them. */
export function answerFlows(source: FlowSource | undefined, path: string, query: URLSearchParams): AdminAnswer | undefined {
  if (path !== '/flows' && path !== '/flows.har' && !path.startsWith('/flows/')) return undefined;
  if (source === undefined || !source.ring.enabled) {
    return text(404, 'flows are off: set flows.size above 0 (and run a single worker) to record them');
  }
  const { ring, redact } = source;
  if (path === '/flows.har') {
    return { status: 200, type: JSON_TYPE, body: `${JSON.stringify(toHar(ring.snapshot(), redact, source.version))}\n` };
  }
  if (path === '/flows') {
    const parsed = parseFlowQuery(query);
    if ('error' in parsed) return text(400, parsed.error);
    const { after, ...filter } = parsed.filter;
    let flows = ring.list(after === undefined ? filter : { ...filter, limit: undefined });
    if (after !== undefined) flows = flows.filter((f) => f.id > after).slice(0, filter.limit);
    return { status: 200, type: JSON_TYPE, body: `${JSON.stringify(flows.map((f) => flowJson(f, redact, true)))}\n` };
  }
  const id = /^\/flows\/(\d{1,15})$/.exec(path)?.[1];
  const flow = id === undefined ? undefined : ring.get(Number(id));
  if (flow === undefined) return text(404, `no flow ${path.slice('/flows/'.length)}: it never existed or the ring (flows.size) has dropped it`);
  return { status: 200, type: JSON_TYPE, body: `${JSON.stringify(flowJson(flow, redact), null, 2)}\n` };
}
