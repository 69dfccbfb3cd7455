import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogJanitor } from '../../src/node/log-janitor.js';
import type { JobState, JobSummary } from '../../src/scheduler/types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(os.tmpdir(), 'meshrun-janitor-'));
  dirs.push(d);
  return d;
}

/** Writes <data>/logs/<job>/<task>.1.log of `bytes` bytes, last written `ageMs` ago. */
function logOf(data: string, job: string, bytes: number, ageMs = 0, task = 'a'): void {
  const dir = join(data, 'logs', job);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${task}.1.log`);
  writeFileSync(file, 'x'.repeat(bytes));
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(file, t, t);
  utimesSync(dir, t, t);
}

const summary = (id: string, state: JobState, finishedAt: number | null): JobSummary => ({
  id,
  name: id,
  state,
  submittedAt: 0,
  finishedAt,
  counts: { waiting: 0, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 },
});

const quiet = { info: () => undefined, warn: () => undefined };

describe('LogJanitor', () => {
  it("removes a job's logs when the scheduler removes the job", async () => {
    const data = dataDir();
    logOf(data, 'j1', 10);
    logOf(data, 'j2', 10);
    const janitor = new LogJanitor({ dataDir: data, maxBytes: 0, jobs: () => [summary('j2', 'succeeded', 1)], log: quiet });
    janitor.onEffects([{ type: 'removed', job: 'j1' }]);
    await janitor.stop();
    expect(existsSync(join(data, 'logs', 'j1'))).toBe(false);
    expect(existsSync(join(data, 'logs', 'j2'))).toBe(true);
  });

  it('keeps the logs under the cap: the oldest finished jobs go first, a running job never', async () => {
    const data = dataDir();
    logOf(data, 'old', 400);
    logOf(data, 'newer', 400);
    logOf(data, 'newest', 400);
    logOf(data, 'live', 400);
    const jobs = [
      summary('old', 'failed', 1000),
      summary('newer', 'succeeded', 2000),
      summary('newest', 'cancelled', 3000),
      summary('live', 'running', null),
    ];
    const janitor = new LogJanitor({ dataDir: data, maxBytes: 900, jobs: () => jobs, log: quiet });
    await janitor.sweep();
    expect(['old', 'newer', 'newest', 'live'].map((j) => existsSync(join(data, 'logs', j)))).toEqual([false, false, true, true]);
    expect(janitor.bytes).toBe(800);
    await janitor.stop();
  });

  it('removes logs no job claims once they are an hour old, and first when the cap needs room', async () => {
    const data = dataDir();
    logOf(data, 'gone', 10, 2 * 3_600_000);
    logOf(data, 'recent-orphan', 500, 60_000);
    logOf(data, 'done', 500);
    const janitor = new LogJanitor({ dataDir: data, maxBytes: 600, jobs: () => [summary('done', 'succeeded', 1)], log: quiet });
    await janitor.sweep();
    expect(['gone', 'recent-orphan', 'done'].map((j) => existsSync(join(data, 'logs', j)))).toEqual([false, false, true]);
    expect(janitor.bytes).toBe(500);
    await janitor.stop();
  });

  it('with no cap it only measures; no logs directory measures 0', async () => {
    const data = dataDir();
    const empty = new LogJanitor({ dataDir: data, maxBytes: 0, jobs: () => [], log: quiet });
    await empty.sweep();
    expect(empty.bytes).toBe(0);
    logOf(data, 'a1', 300);
    logOf(data, 'a1', 200, 0, 'b');
    const janitor = new LogJanitor({ dataDir: data, maxBytes: 0, jobs: () => [summary('a1', 'succeeded', 1)], log: quiet });
    await janitor.sweep();
    expect(janitor.bytes).toBe(500);
    await Promise.all([empty.stop(), janitor.stop()]);
  });
});
