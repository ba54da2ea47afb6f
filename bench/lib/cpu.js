// CPU time of a target's process group, from /proc (Linux). CPU ms per request is the number that stays meaningful
// when the machine is shared: req/s drops when another tenant takes the core, the work per request does not.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Parses the fields the bench needs from a /proc/PID/stat line (after the parenthesised command name, which may
 * itself contain spaces and parentheses).
 * @param {string} text
 * @returns {{ pgrp: number, ticks: number } | null} process group and user+system CPU in clock ticks
 */
export function parseProcStat(text) {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // Fields from 3 (state) on: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const pgrp = Number(fields[2]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (![pgrp, utime, stime].every(Number.isFinite)) return null;
  return { pgrp, ticks: utime + stime };
}

/** Reads /proc; one instance per run (the clock-tick rate is asked once). */
export class CpuMeter {
  #msPerTick;
  #available;

  constructor() {
    const probe = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
    const hz = Number(probe.stdout?.trim());
    this.#msPerTick = 1000 / (Number.isFinite(hz) && hz > 0 ? hz : 100);
    try {
      readFileSync('/proc/self/stat', 'utf8');
      this.#available = true;
    } catch {
      this.#available = false;
    }
  }

  /**
   * CPU time used so far by every process in the group led by `pgid` (a target and any helper it forked).
   * @param {number | undefined} pgid
   * @returns {number | null} milliseconds, or null when /proc is not there
   */
  groupMs(pgid) {
    if (!this.#available || pgid === undefined) return null;
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let text;
      try {
        text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // exited while we looked
      }
      const stat = parseProcStat(text);
      if (stat?.pgrp === pgid) ticks += stat.ticks;
    }
    return ticks * this.#msPerTick;
  }
}
