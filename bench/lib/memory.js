// Resident memory of a target, from /proc (Linux): the sum of VmRSS over its process group, without the leash
// (bench/lib/leash.js, a small idle Node process that leads the group of hopwise and squid) when there is one.
import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from './cpu.js';

/**
 * @param {string} status the text of /proc/PID/status
 * @returns {number | null} VmRSS in KiB
 */
export function parseVmRss(status) {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) : null;
}

/** Reads a process group's resident memory; null everywhere when /proc is not there. */
export class MemoryMeter {
  /**
   * The pids of a target's processes: its process group, without the leash when it has one.
   * @param {import('./managed-child.js').ManagedChild} child
   * @returns {number[]}
   */
  members(child) {
    const pgid = child.pid;
    const excludeLeader = child.leashed;
    /** @type {number[]} */
    const pids = [];
    if (pgid === undefined) return pids;
    let entries;
    try {
      entries = readdirSync('/proc');
    } catch {
      return pids;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (excludeLeader && pid === pgid) continue;
      try {
        if (parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8'))?.pgrp === pgid) pids.push(pid);
      } catch {
        // exited while we looked
      }
    }
    return pids;
  }

  /**
   * @param {number[]} pids
   * @returns {number | null} MiB
   */
  #rssOf(pids) {
    let kib = 0;
    let seen = false;
    for (const pid of pids) {
      try {
        const v = parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (v !== null) {
          kib += v;
          seen = true;
        }
      } catch {
        // exited
      }
    }
    return seen ? kib / 1024 : null;
  }

  /**
   * Resident memory of a target's processes now.
   * @param {import('./managed-child.js').ManagedChild | null | undefined} child
   * @returns {number | null} MiB
   */
  rssMiB(child) {
    if (!child?.pid) return null;
    return this.#rssOf(this.members(child));
  }

  /**
   * Samples the target's resident memory every `everyMs` until `stop()` is called; returns the peak.
   * @param {import('./managed-child.js').ManagedChild | null | undefined} child
   * @param {number} everyMs
   * @returns {{ stop: () => number | null }}
   */
  sampler(child, everyMs = 100) {
    if (!child?.pid) return { stop: () => null };
    const pids = this.members(child);
    /** @type {number | null} */
    let peak = this.#rssOf(pids);
    const timer = setInterval(() => {
      const now = this.#rssOf(pids);
      if (now !== null && (peak === null || now > peak)) peak = now;
    }, everyMs);
    return {
      stop: () => {
        clearInterval(timer);
        const now = this.#rssOf(pids);
        return now !== null && (peak === null || now > peak) ? now : peak;
      },
    };
  }
}
