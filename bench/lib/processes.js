// Child processes of the bench: each origin, target and the load generator runs in its own process, pinned with
// `taskset -c` when the layout says so. One ProcessGroup owns them all and is the only place that kills them.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ManagedChild } from './managed-child.js';

const LEASH = fileURLToPath(new URL('./leash.js', import.meta.url));

/** Owns every child the bench starts; nothing else kills them. */
export class ProcessGroup {
  /** @type {Set<ManagedChild>} */
  #children = new Set();
  /** @type {import('./platform.js').CoreLayout} */
  #layout;

  /** @param {import('./platform.js').CoreLayout} layout */
  constructor(layout) {
    this.#layout = layout;
  }

  /**
   * Starts `command args` in its own process group, under `taskset -c core` when pinning is on.
   * @param {string} name
   * @param {string} command
   * @param {string[]} args
   * @param {{ core: 'client' | 'target', ipc?: boolean, cwd?: string, leashed?: boolean }} options
   * @returns {ManagedChild}
   */
  spawn(name, command, args, { core, ipc = false, cwd, leashed = false }) {
    const cpu = core === 'client' ? this.#layout.clientCore : this.#layout.targetCore;
    const pin = this.#layout.pinned && cpu !== null;
    const [file, argv] = pin ? ['taskset', ['-c', cpu, command, ...args]] : [command, args];
    const child = spawn(file, argv, {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? /** @type {const} */ (['ipc']) : [])],
    });
    const managed = new ManagedChild(name, child, leashed);
    this.#children.add(managed);
    return managed;
  }

  /**
   * Starts a Node script of the bench (with an IPC channel, which is also its lifeline: see lib/child.js).
   * @param {string} name
   * @param {string} script absolute path
   * @param {string[]} args
   * @param {'client' | 'target'} core
   * @param {string[]} [nodeArgs]  flags for node itself (e.g. `--cpu-prof`)
   * @returns {ManagedChild}
   */
  spawnNode(name, script, args, core, nodeArgs = []) {
    return this.spawn(name, process.execPath, [...nodeArgs, script, ...args], { core, ipc: true });
  }

  /**
   * Starts a program that is not one of the bench's scripts (hopwise, squid) on a leash (see leash.js): it dies with
   * the harness even if the harness is killed with SIGKILL.
   * @param {string} name
   * @param {string} command
   * @param {string[]} args
   * @param {{ core: 'client' | 'target', cwd?: string, removeOnExit?: string, stdoutFile?: string }} options
   *   `removeOnExit`: a temp dir the leash deletes when the program exits (covers a SIGKILLed harness);
   *   `stdoutFile`: the program's stdout goes to this file (appended), not to the harness
   * @returns {ManagedChild}
   */
  spawnLeashed(name, command, args, { core, cwd, removeOnExit, stdoutFile }) {
    const leash = [
      LEASH,
      ...(removeOnExit ? ['--rm', removeOnExit] : []),
      ...(stdoutFile ? ['--stdout', stdoutFile] : []),
    ];
    return this.spawn(name, process.execPath, [...leash, command, ...args], { core, cwd, ipc: true, leashed: true });
  }

  /** @param {ManagedChild} child */
  async stop(child) {
    await child.stop();
    this.#children.delete(child);
  }

  /** Stops every child still running, in parallel, each bounded by its grace period. */
  async stopAll() {
    await Promise.all([...this.#children].map((c) => c.stop()));
    this.#children.clear();
  }

  /** Synchronous: SIGKILL whatever is left (for the process 'exit' handler). */
  killAllNow() {
    for (const child of this.#children) child.killNow();
    this.#children.clear();
  }
}
