/**
 * What `hopwise demo <name>` accepts, as data: the demos, the flags each one takes with their defaults, and the help
 * text with examples. The CLI builds its parser from this table (the workshop never imports the CLI), and the demo
 * command reads the parsed {@link DemoArgs}. Pure: no imports, so loading it costs nothing; it lives with the
 * configuration data rather than in workshop/ so that a proxy run, which parses the same command line, never loads a
 * workshop module.
 */

export const DEMO_NAMES = ['dumb-proxy', 'proxy-connection', 'pooling'] as const;
export type DemoName = (typeof DEMO_NAMES)[number];
/** `all` runs every demo in turn (one deck, one capture). */
export type DemoTarget = DemoName | 'all';
export const DEMO_TARGETS: readonly DemoTarget[] = [...DEMO_NAMES, 'all'];

/** `hopwise demo <name>`: run a workshop demo. Only the options actually given are present. */
export interface DemoArgs {
  readonly command: 'demo';
  readonly name: DemoTarget;
  /** Directory for one SVG per slide-sized diagram. */
  readonly svgDir?: string;
  readonly jsonFile?: string;
  /** Directory for the HTML deck (created or replaced as a whole). */
  readonly slidesDir?: string;
  /** File for a packet capture of the demo's loopback traffic. */
  readonly pcapFile?: string;
  readonly idleTimeout?: number;
  readonly requests?: number;
  /** proxy-connection demo: run chain (b) with default pooling towards the dumb parent instead of the legacy setting. */
  readonly pooledNextHop?: boolean;
}

export type DemoFlagKind = 'path' | 'count' | 'ms' | 'switch';

export interface DemoFlag {
  readonly flag: string;
  /** The {@link DemoArgs} field it sets. */
  readonly key: keyof Omit<DemoArgs, 'command' | 'name'>;
  readonly kind: DemoFlagKind;
  readonly describe: string;
}

/** Every flag any demo takes; which demo takes which is {@link DEMOS}. */
export const DEMO_FLAGS: readonly DemoFlag[] = [
  { flag: 'slides', key: 'slidesDir', kind: 'path', describe: 'write a self-contained HTML slide deck of this run into DIR' },
  { flag: 'svg', key: 'svgDir', kind: 'path', describe: 'write one SVG per slide-sized diagram (1920×1080) into DIR' },
  { flag: 'json', key: 'jsonFile', kind: 'path', describe: "write the demo's measurements to FILE (JSON)" },
  { flag: 'pcap', key: 'pcapFile', kind: 'path', describe: "capture the demo's loopback traffic to FILE (tcpdump; opens in Wireshark)" },
  { flag: 'idle-timeout', key: 'idleTimeout', kind: 'ms', describe: 'milliseconds before the demo origin closes an idle connection' },
  { flag: 'requests', key: 'requests', kind: 'count', describe: 'number of requests the demo sends' },
  {
    flag: 'pooled-next-hop',
    key: 'pooledNextHop',
    kind: 'switch',
    describe:
      "let hopwise reuse its connections to its parent, the dumb proxy (default pooling), to see the stall a dumb " +
      'parent causes; by default the demo gives the parent maxRequestsPerSocket: 1 (an upstream.origins entry)',
  },
];

const OUTPUT_FLAGS = ['slides', 'svg', 'json', 'pcap'] as const;

export interface DemoSpec {
  readonly summary: string;
  /** Flags beyond the output flags, with the default shown in help. */
  readonly options: Readonly<Record<string, string>>;
  readonly examples: readonly (readonly [string, string])[];
}

/** One entry per demo target: what it shows, the flags it takes and their defaults, examples. */
export const DEMOS: Readonly<Record<DemoTarget, DemoSpec>> = {
  'dumb-proxy': {
    summary: 'the keep-alive hang behind a dumb proxy, then the same client through hopwise',
    options: { 'idle-timeout': '3000' },
    examples: [
      ['hopwise demo dumb-proxy', 'the full 3-second hang'],
      ['hopwise demo dumb-proxy --idle-timeout 500 --slides deck', 'a short run, and its slides in ./deck'],
    ],
  },
  'proxy-connection': {
    summary: 'Proxy-Connection through three chains of proxies, and where it breaks',
    options: { 'idle-timeout': '3000', 'pooled-next-hop': 'off' },
    examples: [
      ['hopwise demo proxy-connection', 'the three chains, one after the other'],
      ['hopwise demo proxy-connection --pooled-next-hop', 'what default pooling towards a dumb parent does'],
      ['hopwise demo proxy-connection --pcap pc.pcap', 'and a capture to follow in Wireshark'],
    ],
  },
  pooling: {
    summary: "the same requests through naive mode and through hopwise's pool",
    options: { requests: '500', 'idle-timeout': '5000' },
    examples: [
      ['hopwise demo pooling', '500 requests each way'],
      ['hopwise demo pooling --requests 100 --svg pictures', 'fewer requests; one SVG per diagram in ./pictures'],
    ],
  },
  all: {
    summary: 'every demo in turn: one deck, one capture',
    options: { 'idle-timeout': "each demo's", requests: '500' },
    examples: [
      ['hopwise demo all --slides deck', 'regenerate the whole workshop deck in ./deck'],
      ['hopwise demo all --slides deck --pcap workshop.pcap', 'the deck, linked to a capture of the same run'],
    ],
  },
};

/** The flags `target` takes, output flags first. */
export function flagsOf(target: DemoTarget): readonly DemoFlag[] {
  const names = new Set<string>([...OUTPUT_FLAGS, ...Object.keys(DEMOS[target].options)]);
  return DEMO_FLAGS.filter((f) => names.has(f.flag));
}

/** The default `flag` shows in `target`'s help, if it has one. */
export function defaultOf(target: DemoTarget, flag: string): string | undefined {
  return DEMOS[target].options[flag];
}

/** A usage problem with a flag given to a demo that does not take it; undefined when `target` takes every flag. */
export function unsupportedFlag(target: DemoTarget, given: readonly string[]): string | undefined {
  const taken = new Set(flagsOf(target).map((f) => f.flag));
  const wrong = given.find((flag) => !taken.has(flag));
  if (wrong === undefined) return undefined;
  const takes = [...taken].map((f) => `--${f}`).join(', ');
  return `demo ${target} does not take --${wrong} (it takes ${takes})`;
}
