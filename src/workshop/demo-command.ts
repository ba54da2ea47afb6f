/**
 * `hopwise demo <name>` (SPEC §9.2): runs one scripted demo on loopback, prints its annotated timeline (colour on a
 * terminal, plain when piped or when NO_COLOR is set), and writes `--svg` / `--json` files. hopwise's part of each
 * demo runs with the embedded defaults, moved to an ephemeral port.
 */
import { writeFile } from 'node:fs/promises';
import type { DemoArgs } from '../cli/args.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { runDumbProxyDemo } from './demos/dumb-proxy.js';
import { runPoolingDemo } from './demos/pooling.js';
import { runProxyConnectionDemo } from './demos/proxy-connection.js';
import { renderSvg } from './render-svg.js';
import { renderText } from './render-text.js';
import type { DemoResult } from './timeline.js';

/** The streams and environment of the process (structurally main's `MainIO`). */
export interface DemoIO {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Demo parameters beyond the config; unset ones take each demo's defaults. */
export interface DemoParams {
  readonly idleTimeoutMs?: number;
  readonly requests?: number;
  /** proxy-connection: default pooling towards the dumb next hop in chain (b). */
  readonly pooledNextHop?: boolean;
}

/** Runs a demo by name. */
export function runDemo(name: DemoArgs['name'], config: Config, params: DemoParams = {}): Promise<DemoResult> {
  const idle = params.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: params.idleTimeoutMs };
  switch (name) {
    case 'dumb-proxy':
      return runDumbProxyDemo({ config, ...idle });
    case 'proxy-connection':
      return runProxyConnectionDemo({ config, ...idle, legacyNextHop: params.pooledNextHop !== true });
    case 'pooling':
      return runPoolingDemo({ config, ...idle, ...(params.requests === undefined ? {} : { requests: params.requests }) });
  }
}

/** Colour only on a terminal, and never when NO_COLOR is set to a non-empty value (no-color.org). */
export function useColour(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true && (env.NO_COLOR ?? '') === '';
}

/** The CLI command; resolves with the exit code (0, or 1 when a file cannot be written or the demo fails). */
export async function runDemoCommand(args: DemoArgs, io: DemoIO): Promise<number> {
  let result: DemoResult;
  try {
    const params: DemoParams = {
      ...(args.idleTimeout === undefined ? {} : { idleTimeoutMs: args.idleTimeout }),
      ...(args.requests === undefined ? {} : { requests: args.requests }),
      ...(args.pooledNextHop === undefined ? {} : { pooledNextHop: args.pooledNextHop }),
    };
    result = await runDemo(args.name, loadConfig(), params);
  } catch (err) {
    io.stderr.write(`hopwise: demo ${args.name} failed: ${(err as Error).message}\n`);
    return 1;
  }
  io.stdout.write(renderText(result, { colour: useColour(io.stdout, io.env) }));
  const files: [string | undefined, () => string][] = [
    [args.svgFile, () => renderSvg(result)],
    [args.jsonFile, () => `${JSON.stringify(result, null, 2)}\n`],
  ];
  for (const [file, render] of files) {
    if (file === undefined) continue;
    try {
      await writeFile(file, render(), 'utf8');
      io.stderr.write(`hopwise: wrote ${file}\n`);
    } catch (err) {
      io.stderr.write(`hopwise: cannot write ${file}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  return 0;
}
