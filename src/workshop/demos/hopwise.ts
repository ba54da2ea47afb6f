/**
 * A real hopwise instance for a demo (STYLE: the workshop reuses the real pieces): the caller's validated config with
 * the demo's adjustments layered on (ephemeral loopback port, no admin listener, no periodic stats), validated again
 * by the one schema, and its telemetry exposed so the demo can put upstream sockets on the timeline.
 */
import type { DeepPartial } from '../../config/merge.js';
import { deepMerge } from '../../config/merge.js';
import type { Config, ConfigInput } from '../../config/schema.js';
import { configSchema } from '../../config/schema.js';
import type { TelemetryEvent } from '../../observability/events.js';
import type { StatsSnapshot } from '../../observability/stats.js';
import { createProxy } from '../../proxy.js';

/** A running demo hopwise. */
export interface DemoHopwise {
  readonly port: number;
  readonly config: Config;
  stats(): StatsSnapshot;
  /** Immediate shutdown: demos end when their measurements are done. */
  close(): Promise<void>;
}

/** Starts hopwise from `base` + `overrides` on 127.0.0.1:0; `onTelemetry` sees every telemetry event. */
export async function startDemoHopwise(
  base: Config,
  overrides: DeepPartial<ConfigInput>,
  onTelemetry?: (e: TelemetryEvent) => void,
): Promise<DemoHopwise> {
  const demo: DeepPartial<ConfigInput> = {
    listen: { host: '127.0.0.1', port: 0 },
    admin: { enabled: false },
    stats: { interval: 0 },
    log: { access: false },
  };
  const merged = deepMerge(deepMerge(base, demo), overrides);
  const config = configSchema.parse(merged);
  const proxy = createProxy(config);
  if (onTelemetry !== undefined) proxy.telemetry.on(onTelemetry);
  const info = await proxy.listen();
  return { port: info.proxy.port, config, stats: () => proxy.stats(), close: () => proxy.destroy() };
}
