// Open-file limits for the idle-connections scenario: each held connection is a descriptor in the load generator and
// in the target. Reads /proc/PID/limits and raises a soft limit with prlimit(1) (util-linux) up to the hard limit.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * @param {string} text the content of /proc/PID/limits
 * @returns {{ soft: number, hard: number } | null} `Max open files` (unlimited counts as Infinity)
 */
export function parseOpenFiles(text) {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return null;
  const num = (/** @type {string} */ v) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: num(m[1] ?? ''), hard: num(m[2] ?? '') };
}

/**
 * Makes sure each pid may hold `needed` descriptors: raises soft limits that are lower (prlimit --pid, up to the hard
 * limit). Returns how many descriptors every pid can hold afterwards, and what was done, for the report.
 * @param {number[]} pids
 * @param {number} needed
 * @returns {{ allowed: number, notes: string[] }}
 */
export function ensureOpenFiles(pids, needed) {
  let allowed = Number.POSITIVE_INFINITY;
  /** @type {string[]} */
  const notes = [];
  for (const pid of pids) {
    let limits;
    try {
      limits = parseOpenFiles(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    } catch {
      continue;
    }
    if (limits === null) continue;
    let soft = limits.soft;
    if (soft < needed) {
      const want = Math.min(needed, limits.hard);
      const r = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${want}:${limits.hard}`], { timeout: 5000 });
      if (r.status === 0) {
        notes.push(`raised open-file limit of pid ${pid} from ${soft} to ${want} (prlimit)`);
        soft = want;
      } else {
        notes.push(`could not raise open-file limit of pid ${pid} (${soft}): prlimit failed`);
      }
    }
    allowed = Math.min(allowed, soft);
  }
  return { allowed, notes };
}
