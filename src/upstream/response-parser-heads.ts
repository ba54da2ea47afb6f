/**
 * llhttp-only head bookkeeping for `response-parser.ts`: where each head starts, so that the wrapper can
 * (1) accept identical duplicate Content-Length lines, which llhttp rejects outright (RFC 9112 §6.3 rule 5 allows
 *     them), by re-parsing the head with the later copies renamed, then restoring their names and checking their
 *     values; and
 * (2) reject `ICE/` and `RTSP/` status lines, which llhttp parses like `HTTP/` ones (its callbacks do not say which),
 *     and a status line ended by `\r\r`, which llhttp takes for a line end.
 *
 * llhttp's callbacks carry no offsets, so the input is cut before every `HTTP/`, `ICE/` and `RTSP/` (the only
 * protocol names llhttp accepts; Buffer#indexOf, native). The first head that begins in a piece while the parser was
 * idle at its start begins at the piece's first byte that is not CR or LF (llhttp skips empty lines between
 * messages). Any other head began inside its piece after a message ended there; its protocol name cannot be whole in
 * the piece (that would have been a cut), so a proper prefix of one (`H`…`HTTP`, `I`…`ICE`, `R`…`RTSP`, never two at
 * once) ends the piece, and that is where it began. Headers-complete then checks the head starts with `HTTP/`. The
 * head bytes are kept (views while `execute` runs, one copy if a head spans reads) until its headers are complete.
 * The bytes still due of a Content-Length body are not searched (a large download is scanned once per read at most
 * up to its end, not byte for byte).
 *
 * A state machine over one engine instance (replaced on a duplicate Content-Length), kept in one file.
 */
import type { RawCallbacks, RawEngine, RawError } from './parser-engines.js';

const HTTP = Buffer.from('HTTP/', 'latin1');
const PROTOCOLS = [HTTP, Buffer.from('ICE/', 'latin1'), Buffer.from('RTSP/', 'latin1')];
/** Same length (14) as `content-length`, so offsets in the stream do not move; a token no origin sends. */
const PLACEHOLDER = 'x-Dup-C-LENGTH';
const PLACEHOLDER_BYTES = Buffer.from(PLACEHOLDER, 'latin1');

/** Length of the suffix of `piece` that is a proper prefix of a protocol name (0 when none). */
function protocolPrefixSuffix(piece: Buffer): number {
  for (const p of PROTOCOLS) {
    for (let k = Math.min(p.length - 1, piece.length); k > 0; k--) {
      if (piece.subarray(piece.length - k).equals(p.subarray(0, k))) return k;
    }
  }
  return 0;
}

/** The next offset after `from` where a protocol name starts in `buf`, or buf.length. */
function nextCut(buf: Buffer, from: number): number {
  let next = buf.length;
  for (const p of PROTOCOLS) {
    const i = buf.indexOf(p, from);
    if (i !== -1 && i < next) next = i;
  }
  return next;
}

/** The Content-Length of a head llhttp accepted (so no Transfer-Encoding beside it), or 0. */
function contentLength(fields: readonly string[]): number {
  for (let i = 0; i < fields.length; i += 2) {
    const n = fields[i]!;
    if (n.length === 14 && n.toLowerCase() === 'content-length') return Number(fields[i + 1]);
  }
  return 0;
}

interface Rename {
  readonly pair: number;
  readonly name: string;
}

export class HeadTracker implements RawEngine, RawCallbacks {
  readonly #open: (cb: RawCallbacks) => RawEngine;
  readonly #next: RawCallbacks;
  #engine: RawEngine;
  #idle = true;
  #inHead = false;
  #upgraded = false;
  /** Head bytes from earlier pieces (views during execute, copied at its end). */
  #parts: Buffer[] = [];
  /** The piece being executed, whether the parser was idle at its start, heads begun in it so far. */
  #piece: Buffer = Buffer.alloc(0);
  #pieceIdle = true;
  #begunInPiece = 0;
  /** Where the current head starts in #piece (-1: in an earlier piece, or unknown). */
  #startInPiece = -1;
  #startKnown = true;
  #fields: string[] = [];
  /** Bytes still due of a Content-Length body: no head can start inside them, so they are not searched for one. */
  #bodyLeft = 0;
  #renames: Rename[] = [];
  #error: RawError | undefined;

  constructor(open: (cb: RawCallbacks) => RawEngine, next: RawCallbacks) {
    this.#open = open;
    this.#next = next;
    this.#engine = open(this);
  }

  execute(chunk: Buffer): number | RawError {
    const r = this.#run(chunk);
    if (this.#inHead && this.#parts.length > 0) this.#parts = [Buffer.concat(this.#parts)];
    return r;
  }

  finish(): RawError | undefined {
    return this.#engine.finish();
  }

  close(): void {
    this.#engine.close();
  }

  /** Execute `buf` piece by piece (cut before each `HTTP/`); bytes consumed, or the error. */
  #run(buf: Buffer): number | RawError {
    let pos = 0;
    while (pos < buf.length && !this.#upgraded) {
      const next = nextCut(buf, pos + Math.max(1, Math.min(this.#bodyLeft, buf.length - pos)));
      // Usually the whole read is one piece: no view to allocate.
      const piece = pos === 0 && next === buf.length ? buf : buf.subarray(pos, next);
      this.#piece = piece;
      this.#pieceIdle = this.#idle;
      this.#begunInPiece = 0;
      this.#startInPiece = -1;
      const r = this.#engine.execute(piece);
      if (typeof r !== 'number') {
        if (this.#error !== undefined) return { ...this.#error, bytesParsed: pos + r.bytesParsed };
        if (r.code === 'HPE_UNEXPECTED_CONTENT_LENGTH' && this.#inHead && this.#startKnown) {
          const replay = this.#renameDuplicate(r.bytesParsed, buf.subarray(next));
          if (replay !== undefined) {
            const r2 = this.#run(replay);
            return typeof r2 === 'number' ? buf.length - (replay.length - r2) : r2;
          }
        }
        return { ...r, bytesParsed: pos + r.bytesParsed };
      }
      if (this.#inHead) this.#parts.push(piece.subarray(this.#startInPiece >= 0 ? this.#startInPiece : 0));
      if (r < piece.length) return pos + r;
      pos = next;
    }
    return pos;
  }

  /** The current head's bytes up to `end` in the current piece. */
  #headSoFar(end: number): Buffer {
    const tail = this.#piece.subarray(this.#startInPiece >= 0 ? this.#startInPiece : 0, end);
    return this.#startInPiece >= 0 ? Buffer.from(tail) : Buffer.concat([...this.#parts, tail]);
  }

  /**
   * llhttp stopped at a second Content-Length (offset `at` in the piece): rename that line in a copy of the head,
   * open a fresh engine and return the bytes to replay through it (the head so far, then the rest of the input).
   */
  #renameDuplicate(at: number, rest: Buffer): Buffer | undefined {
    const head = this.#headSoFar(at);
    const lineStart = head.lastIndexOf(0x0a) + 1;
    const name = head.toString('latin1', lineStart, lineStart + 14);
    if (lineStart === 0 || name.toLowerCase() !== 'content-length' || head[lineStart + 14] !== 0x3a) return undefined;
    let lines = 0;
    for (let i = head.indexOf(0x0a); i !== -1 && i < lineStart; i = head.indexOf(0x0a, i + 1)) lines++;
    this.#renames.push({ pair: lines - 1, name });
    PLACEHOLDER_BYTES.copy(head, lineStart);
    this.#engine.close();
    this.#engine = this.#open(this);
    this.#idle = true;
    this.#inHead = false;
    this.#parts = [];
    this.#fields = [];
    return Buffer.concat([head, this.#piece.subarray(at), rest]);
  }

  /** Put the renamed Content-Length names back; their values must equal the first one (RFC 9112 §6.3 rule 5). */
  #restore(fields: string[]): RawError | undefined {
    let first: string | undefined;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i]!.length === 14 && fields[i]!.toLowerCase() === 'content-length') {
        first = fields[i + 1];
        break;
      }
    }
    for (const { pair, name } of this.#renames) {
      const value = fields[pair * 2 + 1];
      if (fields[pair * 2] !== PLACEHOLDER || value === undefined) {
        return { code: 'HPE_UNEXPECTED_CONTENT_LENGTH', bytesParsed: 0, reason: 'Duplicate Content-Length' };
      }
      if (!/^\d+$/.test(value)) return { code: 'HPE_INVALID_CONTENT_LENGTH', bytesParsed: 0, reason: 'Invalid character in Content-Length' };
      if (first === undefined || Number(value) !== Number(first)) {
        return { code: 'HPE_UNEXPECTED_CONTENT_LENGTH', bytesParsed: 0, reason: 'Duplicate Content-Length' };
      }
      fields[pair * 2] = name;
    }
    this.#renames = [];
    return undefined;
  }

  #startsWithHttp(): boolean {
    if (!this.#startKnown) return false;
    const at = this.#startInPiece;
    const p = this.#piece;
    // The usual case without allocating: the head starts in this piece and its first five bytes are here.
    if (at >= 0 && at + 5 <= p.length) {
      return p[at] === 0x48 && p[at + 1] === 0x54 && p[at + 2] === 0x54 && p[at + 3] === 0x50 && p[at + 4] === 0x2f;
    }
    return this.#headSoFar(5).subarray(0, 5).equals(HTTP);
  }

  /** llhttp takes `\r\r` for the end of a status line; a bare CR makes the element invalid (RFC 9112 §2.2). */
  #statusLineEndsWithCrlf(): boolean {
    const at = this.#startInPiece;
    const p = this.#piece;
    if (at >= 0) {
      const cr = p.indexOf(0x0d, at);
      if (cr !== -1 && cr + 1 < p.length) return p[cr + 1] === 0x0a;
    }
    const head = this.#headSoFar(p.length);
    const cr = head.indexOf(0x0d);
    return cr !== -1 && head[cr + 1] === 0x0a;
  }

  // --- RawCallbacks from the engine; forwarded to the wrapper ---

  messageBegin(): void {
    const piece = this.#piece;
    this.#idle = false;
    this.#inHead = true;
    // Replaced only when in use (an empty one is reused: fewer allocations per response).
    if (this.#parts.length !== 0) this.#parts = [];
    if (this.#fields.length !== 0) this.#fields = [];
    if (this.#begunInPiece++ === 0 && this.#pieceIdle) {
      let start = 0;
      while (start < piece.length && (piece[start] === 0x0d || piece[start] === 0x0a)) start++;
      this.#startInPiece = start;
      this.#startKnown = true;
    } else {
      const k = protocolPrefixSuffix(piece);
      this.#startInPiece = piece.length - k;
      this.#startKnown = k > 0;
    }
    this.#next.messageBegin();
  }

  headers(fields: string[]): void {
    if (!this.#inHead) return this.#next.headers(fields);
    for (let i = 0; i < fields.length; i++) this.#fields.push(fields[i]!);
  }

  headersComplete(major: number, minor: number, given: string[] | undefined, status: number, text: string): number {
    const fields = this.#fields.length === 0 ? (given ?? []) : given === undefined ? this.#fields : this.#fields.concat(given);
    const ok = this.#startsWithHttp();
    const crlf = ok && this.#statusLineEndsWithCrlf();
    this.#inHead = false;
    if (this.#parts.length !== 0) this.#parts = [];
    if (this.#fields.length !== 0) this.#fields = [];
    if (!ok) {
      this.#error = { code: 'HPE_INVALID_CONSTANT', bytesParsed: 0, reason: 'Expected HTTP/' };
      return -1;
    }
    if (!crlf) {
      this.#error = { code: 'HPE_STRICT', bytesParsed: 0, reason: 'Expected LF after CR' };
      return -1;
    }
    if (this.#renames.length > 0) {
      this.#error = this.#restore(fields);
      if (this.#error !== undefined) return -1;
    }
    const r = this.#next.headersComplete(major, minor, fields, status, text);
    if (r === 2) this.#upgraded = true;
    this.#bodyLeft = r === 0 ? contentLength(fields) : 0;
    return r;
  }

  body(chunk: Buffer): void {
    if (this.#bodyLeft > 0) this.#bodyLeft = Math.max(0, this.#bodyLeft - chunk.length);
    this.#next.body(chunk);
  }

  messageComplete(): void {
    this.#idle = true;
    this.#bodyLeft = 0;
    this.#next.messageComplete();
  }
}
