// Scenario (b): clients that send `Connection: close` on every request (and so reconnect every time). The client
// hop closes each time; a proxy that decouples its upstream pool keeps reusing origin connections, one that relays
// the client's connection lifecycle opens one upstream connection per request (SPEC §4.1, RFC 9110 §7.6.1).
// Before each run the harness grows the proxy's pool to the load's concurrency (lib/measure.js `warmPool`), so the
// window shows the steady state; hopwise's close reasons for any upstream socket closed in the window are reported.

/** @type {import('./index.js').Scenario} */
export default {
  id: 'b',
  name: 'close',
  title: '`Connection: close` clients, small responses',
  implemented: true,
  load: { path: '/', closeEachRequest: true },
  columns: ['reqPerSec', 'p50', 'p99', 'cpu', 'rssPeak', 'failures', 'originPer1k', 'proxyPer1k', 'closes'],
};
