// Task logs on this node's disk (<data>/logs/<job>/<task>.<attempt>.log, docs/task-environment.md):
// a job's logs go with the job when the scheduler removes it at the end of its retention (the
// `removed` effect), and the whole directory is kept under --max-log-bytes by removing the logs of
// finished jobs, oldest end first. Logs of a job still running are never removed. A job directory
// whose job this replica does not hold (removed while the node was down, or restored past its
// removal from a snapshot) goes when it has not been written for an hour, or first when the cap
// needs room. The measured size rides in the load gossip (GET /v1/nodes, `meshrun nodes`).
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import type { Effect, JobSummary } from '../scheduler/types.js';
import type { Logger } from './logger.js';

/** Job ids as they name log directories (the same rule as task-env.ts's taskLogPath). */
const JOB_DIR = /^[a-z0-9-]{1,128}$/;
const DEFAULT_PERIOD_MS = 30_000;
/** A sweep this long after a job ends or is removed (several jobs ending together share one). */
const SETTLE_MS = 1000;
const DEFAULT_ORPHAN_AGE_MS = 3_600_000;

export interface LogJanitorDeps {
  readonly dataDir: string;
  /** Cap on the bytes under <data>/logs; 0 for none. */
  readonly maxBytes: number;
  /** The jobs this replica holds (state and end time). */
  readonly jobs: () => readonly JobSummary[];
  readonly log: Pick<Logger, 'info' | 'warn'>;
  /** Wall clock, for the age of directories no job claims. */
  readonly now?: () => number;
  readonly periodMs?: number;
  readonly orphanAgeMs?: number;
}

interface JobDir {
  readonly job: string;
  readonly path: string;
  readonly bytes: number;
  /** Newest modification time of the directory and its files (ms). */
  readonly writtenAt: number;
}

export class LogJanitor {
  private readonly root: string;
  private readonly now: () => number;
  private readonly orphanAgeMs: number;
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  /** Sweeps and removals run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private measured: number | null = null;
  private overCapWarned = false;

  constructor(private readonly deps: LogJanitorDeps) {
    this.root = join(deps.dataDir, 'logs');
    this.now = deps.now ?? Date.now;
    this.orphanAgeMs = deps.orphanAgeMs ?? DEFAULT_ORPHAN_AGE_MS;
  }

  /** Bytes under <data>/logs as of the latest sweep; null before the first. */
  get bytes(): number | null {
    return this.measured;
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.deps.periodMs ?? DEFAULT_PERIOD_MS);
    this.timer.unref();
    void this.sweep();
  }

  /** Resolves once the work queued so far is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.soon !== null) clearTimeout(this.soon);
    this.timer = this.soon = null;
    await this.chain;
  }

  /** The scheduler's effects on this replica: a removed job's logs go now; a job that ended may free room under the cap. */
  onEffects(effects: readonly Effect[]): void {
    let changed = false;
    for (const e of effects) {
      if (e.type === 'removed') {
        void this.removeJob(e.job, 'its retention ended');
        changed = true;
      } else if (e.type === 'job' && e.state !== 'running') {
        changed = true;
      }
    }
    if (changed) this.sweepSoon();
  }

  /** Removes one job's log directory (queued behind any sweep). */
  removeJob(job: string, why: string): Promise<void> {
    if (!JOB_DIR.test(job)) return Promise.resolve();
    return this.enqueue(async () => {
      const path = join(this.root, job);
      try {
        await rm(path, { recursive: true, force: true });
      } catch (err) {
        this.deps.log.warn({ job, err: errorMessage(err) }, 'cannot remove the logs of a job');
        return;
      }
      this.deps.log.info({ job, why }, 'removed the task logs of a job');
    });
  }

  /** Measures the logs, removes orphans past their age, then finished jobs' logs (oldest end first) while over the cap. */
  sweep(): Promise<void> {
    return this.enqueue(() => this.sweepNow());
  }

  private sweepSoon(): void {
    if (this.stopped || this.soon !== null) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      void this.sweep();
    }, SETTLE_MS);
    this.soon.unref();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    // Work queued before stop() still runs: stop() waits for it.
    const next = this.chain.then(async () => {
      try {
        await work();
      } catch (err) {
        this.deps.log.warn({ err: errorMessage(err) }, 'task log housekeeping failed');
      }
    });
    this.chain = next;
    return next;
  }

  private async sweepNow(): Promise<void> {
    const dirs = await this.jobDirs();
    const jobs = new Map(this.deps.jobs().map((j) => [j.id, j]));
    const now = this.now();
    let total = dirs.reduce((n, d) => n + d.bytes, 0);
    const removable: { dir: JobDir; order: number; why: string }[] = [];
    for (const d of dirs) {
      const j = jobs.get(d.job);
      if (j === undefined) {
        if (now - d.writtenAt >= this.orphanAgeMs) {
          total -= (await this.remove(d, 'no job of this replica claims them')) ? d.bytes : 0;
        } else {
          // Before any finished job's: a job this replica does not hold is most likely gone.
          removable.push({ dir: d, order: d.writtenAt - Number.MAX_SAFE_INTEGER, why: 'the log directory is over --max-log-bytes' });
        }
      } else if (j.state !== 'running') {
        removable.push({ dir: d, order: j.finishedAt ?? d.writtenAt, why: 'the log directory is over --max-log-bytes' });
      }
    }
    const cap = this.deps.maxBytes;
    if (cap > 0 && total > cap) {
      removable.sort((a, b) => a.order - b.order || (a.dir.job < b.dir.job ? -1 : 1));
      for (const r of removable) {
        if (total <= cap) break;
        if (await this.remove(r.dir, r.why)) total -= r.dir.bytes;
      }
      if (total > cap && !this.overCapWarned) {
        this.deps.log.warn(
          { bytes: total, cap },
          'task logs of running jobs alone exceed --max-log-bytes; they are kept until their jobs end',
        );
        this.overCapWarned = true;
      }
      if (total <= cap) this.overCapWarned = false;
    }
    this.measured = total;
  }

  private async remove(d: JobDir, why: string): Promise<boolean> {
    try {
      await rm(d.path, { recursive: true, force: true });
    } catch (err) {
      this.deps.log.warn({ job: d.job, err: errorMessage(err) }, 'cannot remove the logs of a job');
      return false;
    }
    this.deps.log.info({ job: d.job, bytes: d.bytes, why }, 'removed the task logs of a job');
    return true;
  }

  private async jobDirs(): Promise<JobDir[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: JobDir[] = [];
    for (const job of names) {
      if (!JOB_DIR.test(job)) continue;
      const path = join(this.root, job);
      try {
        const st = await stat(path);
        if (!st.isDirectory()) continue;
        let bytes = 0;
        let writtenAt = st.mtimeMs;
        for (const f of await readdir(path)) {
          const fst = await stat(join(path, f)).catch(() => null);
          if (fst === null || !fst.isFile()) continue;
          bytes += fst.size;
          writtenAt = Math.max(writtenAt, fst.mtimeMs);
        }
        out.push({ job, path, bytes, writtenAt });
      } catch (err) {
        // Removed meanwhile (its job's removal), or unreadable: not ours to count.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          this.deps.log.warn({ job, err: errorMessage(err) }, 'cannot measure the logs of a job');
      }
    }
    return out;
  }
}
