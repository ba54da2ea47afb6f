// Scenarios planned but not yet written. Each becomes its own module (like keepalive.js) when implemented:
// (c) can reuse the autocannon driver with `load.path = '/bytes/N'` and a throughput column; (d) and (e) need a
// driver of their own (a `run(ctx)` on the scenario, see index.js).

/** @type {import('./index.js').Scenario[]} */
export default [
  {
    id: 'c',
    name: 'large-bodies',
    title: 'large response bodies streamed (origin /bytes/N): throughput, proxy memory',
    implemented: false,
    columns: [],
  },
  {
    id: 'd',
    name: 'idle-connections',
    title: 'many idle keep-alive client connections held open: memory and latency of the active ones',
    implemented: false,
    columns: [],
  },
  {
    id: 'e',
    name: 'connect',
    title: 'CONNECT tunnel throughput',
    implemented: false,
    columns: [],
  },
];
