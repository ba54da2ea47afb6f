// One child process of the bench, as the harness sees it: its output tail, readiness, an IPC request/reply channel
// and a bounded stop. Only its ProcessGroup (processes.js) creates and kills it.
import { createInterface } from 'node:readline';

const TAIL_LINES = 20;

/** One child process: its output tail, readiness, an IPC request/reply channel and a bounded stop. */
export class ManagedChild {
  /** @type {import('node:child_process').ChildProcess} */
  #child;
  /** @type {string[]} */
  #tail = [];
  /** @type {Set<(line: string) => void>} */
  #lineListeners = new Set();
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void, onEvent?: (m: any) => void }>} */
  #pending = new Map();
  #nextId = 1;
  /** @type {string | null} */
  #exitReason = null;
  /** @type {Promise<void>} */
  #exited;

  /**
   * @param {string} name
   * @param {import('node:child_process').ChildProcess} child
   * @param {boolean} [leashed] the process is bench/lib/leash.js and the program measured is its child
   */
  constructor(name, child, leashed = false) {
    this.name = name;
    /** True when the group leader is the leash: memory is measured on the rest of the group. */
    this.leashed = leashed;
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.#onLine(line));
    }
    child.on('message', (/** @type {any} */ msg) => this.#onMessage(msg));
    this.#exited = new Promise((resolve) => {
      const done = (/** @type {string} */ reason) => {
        this.#exitReason ??= reason;
        for (const { reject } of this.#pending.values()) reject(new Error(`${name} ${reason}`));
        this.#pending.clear();
        resolve();
      };
      child.once('exit', (code, signal) => done(`exited (${signal ?? `code ${code}`})`));
      child.once('error', (err) => done(`failed to start: ${err.message}`));
    });
  }

  /** @returns {number | undefined} */
  get pid() {
    return this.#child.pid;
  }

  /** @returns {string | null} why it is gone, or null while it runs */
  get exitReason() {
    return this.#exitReason;
  }

  /** @returns {string} the last lines it printed, for error messages */
  tail() {
    return this.#tail.join('\n');
  }

  /** @param {string} line */
  #onLine(line) {
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    for (const listener of this.#lineListeners) listener(line);
  }

  /** @param {any} msg */
  #onMessage(msg) {
    const waiter = typeof msg?.id === 'number' ? this.#pending.get(msg.id) : undefined;
    if (!waiter) return;
    if (typeof msg.event === 'string') {
      waiter.onEvent?.(msg);
      return;
    }
    this.#pending.delete(msg.id);
    if (typeof msg.error === 'string') waiter.reject(new Error(`${this.name}: ${msg.error}`));
    else waiter.resolve(msg);
  }

  /**
   * Resolves with the first output line matching `pattern`; rejects if the child exits first or on timeout.
   * @param {RegExp} pattern
   * @param {number} timeoutMs
   * @returns {Promise<string>}
   */
  waitForLine(pattern, timeoutMs) {
    const seen = this.#tail.find((l) => pattern.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const finish = (/** @type {() => void} */ settle) => {
        clearTimeout(timer);
        this.#lineListeners.delete(onLine);
        settle();
      };
      const onLine = (/** @type {string} */ line) => {
        if (pattern.test(line)) finish(() => resolve(line));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${this.name}: no ${pattern} within ${timeoutMs} ms\n${this.tail()}`))),
        timeoutMs,
      );
      timer.unref(); // a caller racing this against another readiness check must not be held up by it
      this.#lineListeners.add(onLine);
      void this.#exited.then(() =>
        finish(() => reject(new Error(`${this.name} ${this.#exitReason ?? 'exited'} before ready\n${this.tail()}`))),
      );
    });
  }

  /**
   * Sends `{ id, ...message }` over IPC and resolves with the reply carrying the same id. Messages with that id and
   * an `event` field arrive before the reply and go to `onEvent`.
   * @param {Record<string, unknown>} message
   * @param {number} timeoutMs
   * @param {(event: any) => void} [onEvent]
   * @returns {Promise<any>}
   */
  request(message, timeoutMs, onEvent) {
    if (this.#exitReason !== null) return Promise.reject(new Error(`${this.name} ${this.#exitReason}`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: no reply to ${String(message.cmd)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
        onEvent,
      });
      this.#child.send?.({ id, ...message });
    });
  }

  /** @param {NodeJS.Signals} signal */
  #signalGroup(signal) {
    const pid = this.#child.pid;
    if (pid === undefined || this.#exitReason !== null) return;
    try {
      // Children are process-group leaders (detached), so helpers they fork (squid's) go with them.
      process.kill(-pid, signal);
    } catch {
      try {
        this.#child.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  /**
   * SIGTERM, then SIGKILL if it has not exited within `graceMs`.
   * @param {number} [graceMs]
   */
  async stop(graceMs = 3000) {
    if (this.#exitReason !== null) return;
    this.#signalGroup('SIGTERM');
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => resolve(this.#signalGroup('SIGKILL')), graceMs);
    });
    await Promise.race([this.#exited, killed]);
    clearTimeout(timer);
    await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 1000).unref())]);
  }

  /** Synchronous last resort (process 'exit' handler): SIGKILL the whole group. */
  killNow() {
    this.#signalGroup('SIGKILL');
  }
}
