/**
 * hopwise public API. No import side effects: nothing listens until `listen()`.
 */
export { createProxy } from './proxy.js';
export type { Address, ListenInfo, Proxy, ProxyOptions } from './proxy.js';
export type { Config, Mode } from './config/schema.js';
export type { StatsSnapshot } from './observability/stats.js';
export { createLogger } from './observability/logger.js';
export type { Logger, LogLevel } from './observability/logger.js';
