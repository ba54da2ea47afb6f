/**
 * A scripted HTTP/1.1 origin over raw `net`: exact control over when it answers, what it says about the connection,
 * and when it closes (Node's http server adds a 1 s buffer to its idle timeout, so it cannot close "at exactly 1 s").
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ScriptedRequest {
  readonly head: string;
  readonly method: string;
  readonly path: string;
  readonly body: Buffer;
  /** 1-based index of the connection, and of the request on it. */
  readonly conn: number;
  readonly connReq: number;
}

/**
 * What to do with a request: raw response bytes; destroy the connection without answering; never answer; or answer
 * later through `send` (the test decides when).
 */
export type ScriptAction =
  | string
  | Buffer
  | typeof DESTROY
  | typeof HANG
  | { defer: (send: (data: string | Buffer) => void) => void };

/** Close the connection without answering. */
export const DESTROY = Object.freeze({ control: 'destroy' as const });
/** Never answer. */
export const HANG = Object.freeze({ control: 'hang' as const });

export interface ScriptedOrigin {
  readonly port: number;
  readonly origin: string;
  readonly requests: ScriptedRequest[];
  connections(): number;
  /** Requests that arrived on a connection the origin had already decided to close (must stay 0). */
  readonly lateRequests: ScriptedRequest[];
  close(): Promise<void>;
}

export interface ScriptOptions {
  /** Close a connection exactly this long after its last response (the origin's idle timeout); 0 = never. */
  idleCloseMs?: number;
}

export function okResponse(body = 'ok', extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

export async function startScriptedOrigin(
  script: (req: ScriptedRequest) => ScriptAction,
  opts: ScriptOptions = {},
): Promise<ScriptedOrigin> {
  const requests: ScriptedRequest[] = [];
  const lateRequests: ScriptedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let conns = 0;
  const server = net.createServer((socket) => {
    const conn = ++conns;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let connReq = 0;
    let idle: NodeJS.Timeout | undefined;
    let closing = false;
    const armIdle = (): void => {
      if (!opts.idleCloseMs) return;
      idle = setTimeout(() => {
        closing = true;
        socket.end();
      }, opts.idleCloseMs);
    };
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const length = cl === null ? 0 : Number(cl[1]);
        if (buf.length < end + 4 + length) return;
        const body = buf.subarray(end + 4, end + 4 + length);
        buf = buf.subarray(end + 4 + length);
        const [method = '', path = ''] = head.split(' ');
        const req: ScriptedRequest = { head, method, path, body, conn, connReq: ++connReq };
        clearTimeout(idle);
        if (closing) {
          lateRequests.push(req);
          continue;
        }
        requests.push(req);
        const action = script(req);
        if (typeof action === 'string' || Buffer.isBuffer(action)) {
          socket.write(action);
          armIdle();
          continue;
        }
        if ('control' in action) {
          if (action.control === 'destroy') {
            socket.destroy();
            return;
          }
          continue;
        }
        action.defer((data) => {
          socket.write(data);
          armIdle();
        });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    lateRequests,
    connections: () => conns,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
