/**
 * Public API: createProxy(config) → { listen, close, destroy, stats }. No import side effects.
 * (Skeleton: the composition lands with the forwarding engine.)
 */
export type { Config } from './config/schema.js';
