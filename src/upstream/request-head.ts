/**
 * The upstream request head as one string (written as one buffer, issue 12): request line, the prepared fields in
 * their order and case (SPEC §1.3), then the fields this hop owns for its own connection — `Connection` and, for a
 * body of unknown length, `Transfer-Encoding: chunked` (RFC 9112 §6.1, §7.1), or its `Content-Length` once it is
 * known because the whole body has arrived.
 *
 * `Connection: keep-alive` is sent on every request but a connection's last, which says `close` (RFC 9112 §9.6):
 * HTTP/1.1 persists by default, but a legacy next hop that relays the head (a dumb proxy) keeps its connection to the
 * origin only when it sees keep-alive, as undici and Node's client send it.
 */
export function requestHead(method: string, target: string, headers: readonly string[], last: boolean, chunked: boolean, length?: number): string {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]!}: ${headers[i + 1]!}\r\n`;
  head += last ? 'connection: close\r\n' : 'connection: keep-alive\r\n';
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  else if (length !== undefined) head += `content-length: ${length}\r\n`;
  return head + '\r\n';
}
