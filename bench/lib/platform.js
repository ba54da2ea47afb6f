// Machine facts and the CPU layout: which core runs the origin and the load generator, which runs the proxy.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * @typedef {object} CoreLayout
 * @property {boolean} pinned          whether children are started under `taskset -c`
 * @property {string | null} clientCore  core of the origin, the load generator and the harness
 * @property {string | null} targetCore  core of the target under test (alone)
 * @property {string} note             one line saying why, printed with the results
 */

/**
 * Expands a Linux CPU list such as `0-3,6` into core numbers.
 * @param {string} list
 * @returns {number[]}
 */
export function expandCpuList(list) {
  /** @type {number[]} */
  const cores = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [lo, hi] = part.split('-').map(Number);
    if (lo === undefined || !Number.isInteger(lo)) continue;
    const end = hi !== undefined && Number.isInteger(hi) ? hi : lo;
    for (let c = lo; c <= end; c += 1) cores.push(c);
  }
  return cores;
}

/** @returns {number[]} the cores this process may run on (its affinity mask), else 0..n-1 */
function allowedCores() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const line = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
    if (line?.[1]) return expandCpuList(line[1]);
  } catch {
    // not Linux: fall through to the core count
  }
  return Array.from({ length: os.availableParallelism() }, (_, i) => i);
}

/** @returns {boolean} */
function tasksetWorks() {
  const probe = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore', timeout: 5000 });
  return probe.status === 0;
}

/**
 * Decides the layout: with taskset and at least two allowed cores, the first core carries the origin, the load
 * generator and the harness, and the second core carries only the target under test.
 * @param {boolean} [pin]  false: no pinning at all (`--no-pin`)
 * @returns {CoreLayout}
 */
export function planLayout(pin = true) {
  if (!pin) return { pinned: false, clientCore: null, targetCore: null, note: 'unpinned (--no-pin): the kernel places every process' };
  const cores = allowedCores();
  if (cores.length < 2) {
    return { pinned: false, clientCore: null, targetCore: null, note: `unpinned: only ${cores.length} core allowed` };
  }
  if (!tasksetWorks()) {
    return { pinned: false, clientCore: null, targetCore: null, note: 'unpinned: taskset not available' };
  }
  const [client, target] = /** @type {[number, number]} */ (cores);
  return {
    pinned: true,
    clientCore: String(client),
    targetCore: String(target),
    note: `cpu ${client}: origin + load generator (autocannon) + harness; cpu ${target}: the target under test alone`,
  };
}

/**
 * Pins this process (the harness) to the client core, so it never competes with the target under test.
 * @param {CoreLayout} layout
 */
export function pinSelf(layout) {
  if (!layout.pinned || layout.clientCore === null) return;
  spawnSync('taskset', ['-a', '-p', '-c', layout.clientCore, String(process.pid)], { stdio: 'ignore', timeout: 5000 });
}

/** @returns {string} the CPU model name from /proc/cpuinfo (or os.cpus()) */
function cpuModel() {
  try {
    const line = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (line?.[1]) return line[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

/**
 * @typedef {object} MachineFacts
 * @property {string} date
 * @property {string} node
 * @property {string} platform
 * @property {string} cpu
 * @property {number} cores        cores this process may use
 * @property {number} memoryGiB
 * @property {number[]} loadavg    1/5/15-minute load averages when the run started (the machine may be shared)
 * @property {string} layout
 */

/**
 * @param {CoreLayout} layout
 * @returns {MachineFacts}
 */
export function machineFacts(layout) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpuModel(),
    cores: allowedCores().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    layout: layout.note,
  };
}
