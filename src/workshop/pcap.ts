/**
 * `--pcap FILE`: a capture of a demo's loopback traffic that Wireshark opens. Ports are ephemeral and known only once
 * a scenario's participants listen, so each scenario gets its own tcpdump (on `lo`, filtered to that scenario's
 * ports), started before its traffic (we wait for tcpdump's "listening on" line) and stopped with SIGINT after it
 * (`-U` and immediate mode: nothing is left in a buffer). The parts are then joined into one classic pcap file, and
 * the frame numbers of each scenario are returned so the slides can point at them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';

/** Where one scenario's packets are in the joined capture (1-based frame numbers, as Wireshark shows them). */
export interface CaptureRange {
  readonly scenario: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly firstFrame: number;
  readonly lastFrame: number;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
/** Classic pcap: a 24-byte file header, then per packet a 16-byte header whose bytes 8–11 are the captured length. */
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

/** A running tcpdump and everything it has said on stderr so far. */
interface Tcpdump {
  readonly child: ChildProcess;
  readonly said: () => string;
}

/** A running tcpdump; resolves once it listens, rejects with tcpdump's own words when it cannot. */
function startTcpdump(file: string, filter: string): Promise<Tcpdump> {
  const asRoot = process.getuid?.() === 0 ? ['-Z', 'root'] : []; // as root, tcpdump would drop to a user that cannot write FILE
  // In immediate mode every ring slot is one snap length: with tcpdump's default (256 KiB) its 2 MiB buffer holds
  // eight packets and a busy machine drops the rest. The demos' heads fit in 4 KiB; 16 MiB then holds thousands.
  const args = ['-i', 'lo', '-U', '--immediate-mode', '-n', '-s', '4096', '-B', '16384', ...asRoot, '-w', file, filter];
  const child = spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => fail(new Error(`tcpdump did not start listening within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.on('error', (err: NodeJS.ErrnoException) =>
      fail(new Error(err.code === 'ENOENT' ? 'tcpdump is not installed (apt-get install tcpdump)' : `cannot run tcpdump: ${err.message}`)),
    );
    const onExit = (): void => fail(new Error(`tcpdump cannot capture on lo: ${said.trim().split('\n').at(-1) ?? 'it exited'}`));
    child.on('exit', onExit);
    child.stderr?.setEncoding('utf8');
    const onData = (chunk: string): void => {
      said += chunk;
      if (!said.includes('listening on')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({ child, said: () => said });
    };
    child.stderr?.on('data', onData);
  });
}

/** SIGINT (tcpdump flushes and exits), bounded; SIGKILL after that. Resolves with the packets the kernel dropped. */
async function stopTcpdump({ child, said }: Tcpdump): Promise<number> {
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGINT');
    });
  }
  return Number(/(\d+) packets? dropped by kernel/.exec(said())?.[1] ?? 0);
}

/** The packet records of a classic pcap file, and how many there are. */
function records(data: Buffer, file: string): { header: Buffer; body: Buffer; count: number } {
  const magic = data.length >= FILE_HEADER ? data.readUInt32LE(0) : 0;
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${file} is not a little-endian pcap file`);
  let count = 0;
  for (let at = FILE_HEADER; at + RECORD_HEADER <= data.length; count++) at += RECORD_HEADER + data.readUInt32LE(at + 8);
  return { header: data.subarray(0, FILE_HEADER), body: data.subarray(FILE_HEADER), count };
}

/** One capture for one demo command: a tcpdump per scenario, joined into `file` at the end. */
export class PacketCapture {
  readonly #file: string;
  readonly #parts: { scenario: string; ports: Readonly<Record<string, number>>; file: string }[] = [];
  #running: Tcpdump | undefined;
  /** Packets the kernel dropped before tcpdump read them (the capture is then incomplete). */
  dropped = 0;

  private constructor(file: string) {
    this.#file = file;
  }

  /** Checks that tcpdump runs, may capture on lo and can write next to `file`, before any demo starts. */
  static async open(file: string): Promise<PacketCapture> {
    const probe = `${file}.probe`;
    try {
      await stopTcpdump(await startTcpdump(probe, 'tcp port 9'));
    } finally {
      await rm(probe, { force: true });
    }
    return new PacketCapture(file);
  }

  /** Stops the previous scenario's capture and starts this one's, filtered to its ports. */
  async scenario(scenario: string, ports: Readonly<Record<string, number>>): Promise<void> {
    await this.#stop();
    const part = `${this.#file}.part${this.#parts.length}`;
    const filter = `tcp and (${Object.values(ports).map((p) => `port ${p}`).join(' or ')})`;
    this.#running = await startTcpdump(part, filter);
    this.#parts.push({ scenario, ports, file: part });
  }

  /** Stops capturing and writes the joined file; resolves with each scenario's frame range. */
  async finish(): Promise<CaptureRange[]> {
    await this.#stop();
    const ranges: CaptureRange[] = [];
    const chunks: Buffer[] = [];
    let next = 1;
    for (const part of this.#parts) {
      const { header, body, count } = records(await readFile(part.file), part.file);
      if (chunks.length === 0) chunks.push(header);
      chunks.push(body);
      ranges.push({ scenario: part.scenario, ports: part.ports, firstFrame: next, lastFrame: next + count - 1 });
      next += count;
    }
    await writeFile(this.#file, Buffer.concat(chunks));
    await this.discard();
    return ranges;
  }

  /** Stops tcpdump and removes the per-scenario parts (after a failed run, or once joined). */
  async discard(): Promise<void> {
    await this.#stop();
    await Promise.all(this.#parts.map((p) => rm(p.file, { force: true })));
  }

  async #stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (running !== undefined) this.dropped += await stopTcpdump(running);
  }
}
