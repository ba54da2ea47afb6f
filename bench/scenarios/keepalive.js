// Scenario (a): keep-alive clients asking for a small response. The steady-state cost of one proxied request:
// req/s and latency percentiles, and how few upstream connections the proxy needs for it.

/** @type {import('./index.js').Scenario} */
export default {
  id: 'a',
  name: 'keepalive',
  title: 'keep-alive clients, small responses',
  implemented: true,
  load: { path: '/', closeEachRequest: false },
  columns: ['reqPerSec', 'p50', 'p99', 'cpu', 'rssPeak', 'failures', 'originPer1k', 'proxyPer1k', 'closes'],
};
