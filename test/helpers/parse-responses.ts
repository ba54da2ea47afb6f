/**
 * Drive src/upstream/response-parser.ts over a byte stream cut into pieces and record what it reports, as one plain
 * value (for the contract suite and the differential fuzz): heads, body bytes per message, completions, the error.
 */
import { createResponseParser } from '../../src/upstream/response-parser.js';
import type { ParserEngine, ResponseParserOptions } from '../../src/upstream/response-parser.js';

export interface ParsedMessage {
  status: number;
  text: string;
  version: string;
  headers: string[];
  keepAlive: boolean;
  upgrade: boolean;
  interim: boolean;
  body: string;
  trailers: string[] | undefined;
}

export interface ParseOutcome {
  messages: ParsedMessage[];
  /** HPE_* code, or undefined when the stream (and EOF, if `eof`) parsed cleanly. */
  error: string | undefined;
  /** Bytes after an upgrade head, handed back unconsumed. */
  rest: string;
}

export interface FeedOptions extends ResponseParserOptions {
  readonly engine: ParserEngine;
  /** Methods announced with expect(), one per final response. */
  readonly methods?: readonly string[];
  /** Call finish() after the last piece (the peer closed). Default true. */
  readonly eof?: boolean;
}

/** Cut points: ascending offsets strictly inside the input. */
export function feed(input: string | Buffer, cuts: readonly number[], options: FeedOptions): ParseOutcome {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const messages: ParsedMessage[] = [];
  let current: ParsedMessage | undefined;
  const parser = createResponseParser(
    {
      onHead(h) {
        current = {
          status: h.statusCode,
          text: h.statusText,
          version: `${h.versionMajor}.${h.versionMinor}`,
          headers: [...h.rawHeaders],
          keepAlive: h.shouldKeepAlive,
          upgrade: h.upgrade,
          interim: h.statusCode < 200 && h.statusCode !== 101,
          body: '',
          trailers: undefined,
        };
        messages.push(current);
      },
      onBody(chunk) {
        current!.body += chunk.toString('latin1');
      },
      onComplete(trailers) {
        current!.trailers = [...trailers];
      },
    },
    options,
  );
  for (const m of options.methods ?? []) parser.expect(m);
  let error: string | undefined;
  let rest = '';
  let start = 0;
  try {
    for (const end of [...cuts, bytes.length]) {
      if (end <= start && end !== bytes.length) continue;
      const piece = bytes.subarray(start, end);
      start = end;
      const r = parser.execute(piece);
      if (typeof r !== 'number') {
        error = r.code;
        break;
      }
      if (r < piece.length) {
        rest = Buffer.concat([piece.subarray(r), bytes.subarray(end)]).toString('latin1');
        break;
      }
    }
    if (error === undefined && rest === '' && options.eof !== false) error = parser.finish()?.code;
  } finally {
    parser.destroy();
  }
  return { messages, error, rest };
}
