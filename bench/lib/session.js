// One bench session: starts the origin, the load generator and every available target, runs the matrix
// runs × scenarios × targets, and tears everything down. It is the only owner of those processes and temp dirs.
import path from 'node:path';
import { CpuMeter } from './cpu.js';
import { measure } from './measure.js';
import { MemoryMeter } from './memory.js';
import { ProcessGroup } from './processes.js';
import { TempDirs } from './tempdirs.js';

const START_TIMEOUT_MS = 15_000;

/**
 * @param {Record<string, any>} s  a sample
 * @returns {string}
 */
function oneLine(s) {
  if (s.reqPerSec === null || s.reqPerSec === undefined) {
    // Byte and memory scenarios: their own numbers, as `key value` pairs.
    const keys = Object.keys(s).filter((k) => typeof s[k] === 'number' && k !== 'requests');
    return keys.map((k) => `${k} ${Number(s[k]).toFixed(k === 'failures' || k.startsWith('idle') ? 0 : 1)}`).join(', ');
  }
  const ms = (/** @type {number | null} */ v) => (v === null ? '—' : v.toFixed(2));
  const per1k = s.originPer1k === null ? '' : `, origin conns/1k ${s.originPer1k.toFixed(1)}`;
  const cpu = s.cpuMsPer1k === null ? '' : `, cpu ms/1k ${s.cpuMsPer1k.toFixed(0)}`;
  const latency = `p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms`;
  const closed = s.upstreamClosed && Object.keys(s.upstreamClosed).length > 0
    ? `, upstream closed ${JSON.stringify(s.upstreamClosed)}` : '';
  return `${Math.round(s.reqPerSec ?? 0)} req/s, ${latency}, failures ${s.failures}${per1k}${cpu}${closed}`;
}

export class BenchSession {
  #group;
  #tempDirs = new TempDirs();
  #cpu = new CpuMeter();
  #started = performance.now();
  #memory = new MemoryMeter();
  #repoRoot;
  /** @type {string | null} */
  #stopReason = null;
  /** @type {import('./managed-child.js').ManagedChild | null} */
  #loadgen = null;
  /** @type {import('./managed-child.js').ManagedChild | null} */
  #origin = null;
  #originPort = 0;
  /** @type {Map<string, import('./targets.js').RunningTarget>} */
  #running = new Map();
  /** @type {Map<string, import('./targets.js').TargetDef>} */
  #defs = new Map();

  /** @type {string[]} */
  #hopwiseArgs;
  /** @type {string[]} */
  #nodeArgs;

  /**
   * @param {import('./platform.js').CoreLayout} layout
   * @param {string} repoRoot
   * @param {string[]} [hopwiseArgs]  extra flags for the hopwise target
   * @param {string[]} [nodeArgs]  flags for the node process of each Node target (bench/profile.js)
   */
  constructor(layout, repoRoot, hopwiseArgs = [], nodeArgs = []) {
    this.#group = new ProcessGroup(layout);
    this.#repoRoot = repoRoot;
    this.#hopwiseArgs = hopwiseArgs;
    this.#nodeArgs = nodeArgs;
  }

  /** @returns {string | null} why the session was asked to stop early */
  get stopReason() {
    return this.#stopReason;
  }

  /**
   * Asks the running load (if any) to stop now; the matrix loop ends after the current step.
   * @param {string} reason
   */
  requestStop(reason) {
    this.#stopReason ??= reason;
    this.#loadgen?.request({ cmd: 'stop' }, 2000).catch(() => undefined);
  }

  /** Starts the origin and the load generator, both on the client core. */
  async startInfrastructure() {
    const bench = path.join(this.#repoRoot, 'bench');
    this.#origin = this.#group.spawnNode('origin', path.join(bench, 'origin.js'), ['--port', '0'], 'client');
    const line = await this.#origin.waitForLine(/listening/, START_TIMEOUT_MS);
    this.#originPort = Number(/:(\d+)\s*$/.exec(line)?.[1]);
    this.#loadgen = this.#group.spawnNode('loadgen', path.join(bench, 'loadgen.js'), [], 'client');
    await this.#loadgen.waitForLine(/ready/, START_TIMEOUT_MS);
  }

  /**
   * Starts each target on the target core; one that fails to start is reported and left out.
   * @param {import('./targets.js').TargetDef[]} targets
   * @returns {Promise<Array<{ name: string, reason: string }>>} the targets that failed to start
   */
  async startTargets(targets) {
    /** @type {Array<{ name: string, reason: string }>} */
    const failed = [];
    // Started side by side (they are idle until their turn); kept in the canonical order.
    const started = await Promise.allSettled(targets.map((def) => def.start(this.#targetContext())));
    started.forEach((outcome, i) => {
      const def = /** @type {import('./targets.js').TargetDef} */ (targets[i]);
      if (outcome.status === 'fulfilled') {
        this.#defs.set(def.name, def);
        this.#running.set(def.name, outcome.value);
        console.error(`started ${def.name} on 127.0.0.1:${outcome.value.port}`);
        return;
      }
      const message = /** @type {Error} */ (outcome.reason).message;
      console.error(`${def.name} failed to start: ${message}`);
      failed.push({ name: def.name, reason: message.split('\n')[0] ?? 'unknown error' });
    });
    return failed;
  }

  /** @returns {import('./targets.js').TargetContext} */
  #targetContext() {
    return {
      group: this.#group,
      tempDirs: this.#tempDirs,
      originPort: this.#originPort,
      repoRoot: this.#repoRoot,
      startTimeoutMs: START_TIMEOUT_MS,
      hopwiseArgs: this.#hopwiseArgs,
      nodeArgs: this.#nodeArgs,
    };
  }

  /**
   * Stops a target and starts it again, for a scenario that measures memory from a fresh process (scenario d): the
   * heap a previous scenario grew would otherwise hide the growth being measured.
   * @param {string} name
   * @returns {Promise<import('./targets.js').RunningTarget>}
   */
  async #restart(name) {
    const old = /** @type {import('./targets.js').RunningTarget} */ (this.#running.get(name));
    const def = this.#defs.get(name);
    if (!old.process || !def) return old;
    await this.#group.stop(old.process);
    const fresh = await def.start(this.#targetContext());
    this.#running.set(name, fresh);
    return fresh;
  }

  /** @returns {string[]} the targets that started, in start order */
  get runningTargets() {
    return [...this.#running.keys()];
  }

  /**
   * Runs the matrix. The target order rotates each run so no target always goes first.
   * @param {import('../scenarios/index.js').Scenario[]} scenarios
   * @param {import('./args.js').BenchOptions} options
   * @returns {Promise<import('./report.js').RunRecord[]>}
   */
  async runMatrix(scenarios, options) {
    /** @type {import('./report.js').RunRecord[]} */
    const records = [];
    const names = this.runningTargets;
    for (let run = 1; run <= options.runs; run += 1) {
      const order = names.map((_, i) => /** @type {string} */ (names[(i + run - 1) % names.length]));
      for (const scenario of scenarios) {
        for (const name of order) {
          if (this.#stopReason) return records;
          if (scenario.skip?.(name)) continue;
          const record = await this.#measureOne(run, options, scenario, name);
          // A measurement cut short by a stop request is partial: it is dropped, not reported.
          if (this.#stopReason) return records;
          records.push(record);
        }
      }
    }
    return records;
  }

  /**
   * @param {number} run
   * @param {import('./args.js').BenchOptions} options
   * @param {import('../scenarios/index.js').Scenario} scenario
   * @param {string} name
   * @returns {Promise<import('./report.js').RunRecord>}
   */
  async #measureOne(run, options, scenario, name) {
    let target = /** @type {import('./targets.js').RunningTarget} */ (this.#running.get(name));
    const elapsed = ((performance.now() - this.#started) / 1000).toFixed(0).padStart(3);
    const label = `[${elapsed} s, run ${run}/${options.runs}] (${scenario.id}) ${name.padEnd(16)}`;
    const base = { run, scenario: scenario.id, target: name };
    const died = target.process?.exitReason;
    if (died) {
      console.error(`${label} skipped: target ${died}`);
      return { ...base, sample: null, error: `target ${died}` };
    }
    try {
      if (scenario.freshTarget) target = await this.#restart(name);
      const sample = await measure({
        loadgen: /** @type {import('./managed-child.js').ManagedChild} */ (this.#loadgen),
        origin: /** @type {import('./managed-child.js').ManagedChild} */ (this.#origin),
        originPort: this.#originPort,
        target,
        scenario,
        options,
        cpu: this.#cpu,
        memory: this.#memory,
      });
      console.error(`${label} ${oneLine(sample)}`);
      return { ...base, sample, error: null };
    } catch (err) {
      const message = /** @type {Error} */ (err).message;
      console.error(`${label} ${this.#stopReason ? 'interrupted' : `FAILED: ${message}`}`);
      if (this.#loadgen?.exitReason || this.#origin?.exitReason) this.requestStop(`harness process died: ${message}`);
      return { ...base, sample: null, error: message };
    }
  }

  /** Graceful teardown: every child stopped (SIGTERM, then SIGKILL after a grace period), temp dirs removed. */
  async close() {
    try {
      await this.#group.stopAll();
    } finally {
      this.#tempDirs.removeAll();
    }
  }

  /** Synchronous last resort for process 'exit' and fatal errors. */
  killNow() {
    this.#group.killAllNow();
    this.#tempDirs.removeAll();
  }
}
