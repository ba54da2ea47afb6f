/**
 * `hopwise demo <name>` (SPEC §9.2): runs one scripted demo (or `all` of them) on loopback, prints each annotated
 * timeline (colour on a terminal, plain when piped or when NO_COLOR is set), and writes what was asked for: `--json`,
 * `--svg DIR` (one SVG per slide-sized diagram), `--slides DIR` (the HTML deck) and `--pcap FILE` (a capture of the
 * run's loopback traffic). Every output is checked before the first demo starts, and directories appear whole or not
 * at all. hopwise's part of each demo runs with the embedded defaults, moved to an ephemeral port.
 */
import { writeFile } from 'node:fs/promises';
import { release, type } from 'node:os';
import { basename } from 'node:path';
import type { Config } from '../config/schema.js';
import { renderDeckHtml } from './deck-html.js';
import { demoSlides, diagramSlides, madeWithSlide, type RunInfo, type Slide } from './deck-slides.js';
import type { DemoArgs, DemoName } from '../config/demos.js';
import { DEMO_FLAGS, DEMO_NAMES } from '../config/demos.js';
import { runDumbProxyDemo } from './demos/dumb-proxy.js';
import { runPoolingDemo } from './demos/pooling.js';
import { runProxyConnectionDemo } from './demos/proxy-connection.js';
import { OutputDir, OutputError } from './output-dir.js';
import { PacketCapture, type CaptureRange } from './pcap.js';
import { renderText } from './render-text.js';
import type { BeforeTraffic, DemoResult } from './timeline.js';

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
  /** proxy-connection: default pooling towards the dumb parent in chain (b). */
  readonly pooledNextHop?: boolean;
  /** Called when a scenario's listeners are up, before its traffic (the packet capture). */
  readonly beforeTraffic?: BeforeTraffic;
}

/** Runs a demo by name. */
export function runDemo(name: DemoName, config: Config, params: DemoParams = {}): Promise<DemoResult> {
  const idle = params.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: params.idleTimeoutMs };
  const hook = params.beforeTraffic === undefined ? {} : { beforeTraffic: params.beforeTraffic };
  switch (name) {
    case 'dumb-proxy':
      return runDumbProxyDemo({ config, ...idle, ...hook });
    case 'proxy-connection':
      return runProxyConnectionDemo({ config, ...idle, ...hook, legacyNextHop: params.pooledNextHop !== true });
    case 'pooling':
      return runPoolingDemo({ config, ...idle, ...hook, ...(params.requests === undefined ? {} : { requests: params.requests }) });
  }
}

/** Colour only on a terminal, and never when NO_COLOR is set to a non-empty value (no-color.org). */
export function useColour(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true && (env.NO_COLOR ?? '') === '';
}

/** The outputs that must be ready before a demo starts. */
interface Outputs {
  slides?: OutputDir;
  svg?: OutputDir;
  pcap?: PacketCapture;
}

async function prepare(args: DemoArgs): Promise<Outputs> {
  const outputs: Outputs = {};
  try {
    if (args.slidesDir !== undefined) outputs.slides = await OutputDir.prepare(args.slidesDir);
    if (args.svgDir !== undefined) outputs.svg = await OutputDir.prepare(args.svgDir);
    if (args.pcapFile !== undefined) outputs.pcap = await PacketCapture.open(args.pcapFile).catch((err: Error) => {
      throw new OutputError(`--pcap ${args.pcapFile}: ${err.message}`);
    });
    return outputs;
  } catch (err) {
    await discard(outputs);
    throw err;
  }
}

async function discard(outputs: Outputs): Promise<void> {
  await Promise.all([outputs.slides?.discard(), outputs.svg?.discard(), outputs.pcap?.discard()]);
}

function runInfo(args: DemoArgs, config: Config, version: string): RunInfo {
  const flags = DEMO_FLAGS.flatMap((f) => {
    const v = args[f.key];
    if (v === undefined) return [];
    return f.kind === 'switch' ? [`--${f.flag}`] : [`--${f.flag} ${f.kind === 'path' ? basename(String(v)) : String(v)}`];
  });
  const u = config.upstream;
  return {
    command: ['hopwise demo', args.name, ...flags].join(' '),
    version,
    node: process.versions.node,
    system: `${type()} ${release()}`,
    at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    settings: [`upstream.maxSockets ${u.maxSockets}`, `upstream.idleTimeout ${u.idleTimeout} ms`, `upstream.retryStale ${String(u.retryStale)}`, 'everything else: the built-in defaults'],
    ...(args.pcapFile === undefined ? {} : { pcapName: basename(args.pcapFile) }),
  };
}

/** What the process edge loads for the demos (the workshop reads no files or environment of its own). */
export interface DemoContext {
  /** The embedded defaults (the demos run hopwise as shipped). */
  readonly config: Config;
  /** hopwise's version, shown on the deck's "how this deck was made" slide. */
  readonly version: string;
}

/** The CLI command; resolves with the exit code (0, or 1 when an output cannot be written or a demo fails). */
export async function runDemoCommand(args: DemoArgs, io: DemoIO, ctx: DemoContext): Promise<number> {
  let outputs: Outputs;
  try {
    outputs = await prepare(args);
  } catch (err) {
    io.stderr.write(`hopwise: ${(err as Error).message}\n`);
    return 1;
  }
  const config = ctx.config;
  const names: readonly DemoName[] = args.name === 'all' ? DEMO_NAMES : [args.name];
  const results: DemoResult[] = [];
  for (const name of names) {
    const params: DemoParams = {
      ...(args.idleTimeout === undefined ? {} : { idleTimeoutMs: args.idleTimeout }),
      ...(args.requests === undefined ? {} : { requests: args.requests }),
      ...(args.pooledNextHop === undefined ? {} : { pooledNextHop: args.pooledNextHop }),
      ...(outputs.pcap === undefined ? {} : { beforeTraffic: (id, ports) => outputs.pcap?.scenario(`${name}/${id}`, ports) ?? Promise.resolve() }),
    };
    try {
      const result = await runDemo(name, config, params);
      results.push(result);
      io.stdout.write(renderText(result, { colour: useColour(io.stdout, io.env) }));
    } catch (err) {
      await discard(outputs);
      io.stderr.write(`hopwise: demo ${name} failed: ${(err as Error).message}\n`);
      return 1;
    }
  }
  return writeOutputs(args, io, outputs, results, runInfo(args, config, ctx.version));
}

async function writeOutputs(args: DemoArgs, io: DemoIO, outputs: Outputs, results: readonly DemoResult[], info: RunInfo): Promise<number> {
  try {
    let capture: CaptureRange[] | undefined;
    if (outputs.pcap !== undefined) {
      capture = await outputs.pcap.finish().catch((err: Error) => {
        throw new OutputError(`cannot write ${args.pcapFile ?? ''}: ${err.message}`);
      });
      io.stderr.write(`hopwise: wrote ${args.pcapFile ?? ''} (${capture.at(-1)?.lastFrame ?? 0} packets)\n`);
      const dropped = outputs.pcap.dropped;
      if (dropped > 0) io.stderr.write(`hopwise: warning: the kernel dropped ${dropped} packets before tcpdump read them; the capture is incomplete\n`);
    }
    if (args.jsonFile !== undefined) {
      const json = args.name === 'all' ? results : results[0];
      await writeFile(args.jsonFile, `${JSON.stringify(json, null, 2)}\n`, 'utf8').catch((err: Error) => {
        throw new OutputError(`cannot write ${args.jsonFile ?? ''}: ${err.message}`);
      });
      io.stderr.write(`hopwise: wrote ${args.jsonFile}\n`);
    }
    if (outputs.svg !== undefined) {
      const slides = results.flatMap((r) => diagramSlides(r, capture, info.pcapName));
      await outputs.svg.commit(new Map(slides.flatMap((s) => (s.kind === 'svg' ? [[`${s.name}.svg`, s.svg] as const] : []))));
      io.stderr.write(`hopwise: wrote ${slides.length} SVG diagrams to ${outputs.svg.path}\n`);
    }
    if (outputs.slides !== undefined) {
      const slides: Slide[] = [...results.flatMap((r) => demoSlides(r, capture, info.pcapName)), ...madeWithSlide(info, results, capture)];
      const title = results.length === 1 ? (results[0]?.title ?? 'hopwise demo') : 'Connection is hop-by-hop: the hopwise workshop';
      await outputs.slides.commit(new Map([['index.html', renderDeckHtml(title, slides)]]));
      io.stderr.write(`hopwise: wrote ${slides.length} slides to ${outputs.slides.path}/index.html\n`);
    }
    return 0;
  } catch (err) {
    await discard(outputs);
    io.stderr.write(`hopwise: ${(err as Error).message}\n`);
    return 1;
  }
}
