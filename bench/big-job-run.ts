// Part of `npm run bench -- big-job` (issue 16: "A 1,000,000-task job: accepted, run and finished on
// 3 nodes with no leader change, < 1 KB of RSS per task on every node, its pages served in
// < 50 ms"). Three `meshrun node` processes on 127.0.0.1 (64 slots each, fsync on) run one spec of
// N `noop` shards to its end. While it runs, a reader asks the nodes in turn for a page of 500 at
// a cursor and for the job's summary, one read at a time, and a watcher scrapes every node's
// /metrics (event-loop lag max, leader changes) and /proc (resident memory) every second. Prints
// each figure beside its target with the machine's load average, and writes
// bench/results/big-job-run.json.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JobSummary } from '../src/scheduler/types.js';
import type { NodeProcess } from '../test/process/spawn.js';
import { getCluster } from '../test/process/spawn.js';
import { peakRssMiB, scrapeMetrics } from './node-probes.js';
import { percentile, printTable, writeResults, type Row } from './report.js';
import { onCluster, signalProfilers, type Cluster } from './scheduler-run.js';
import { failureReport } from './failure-report.js';

const SLOTS = 64;
const PAGE_TARGET_MS = 50;
const LOOP_LAG_TARGET_MS = 50;
const RSS_PER_TASK_TARGET = 1024;
/** A stuck run ends the benchmark rather than the session: 1,000,000 shards at 1,000 tasks/s is 17 minutes. */
const RUN_TIMEOUT_MS = 40 * 60_000;
const WATCH_EVERY_MS = 1000;
const READ_PAUSE_MS = 50;

/** VmRSS: the resident set of a live process now, in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load1 = (): number => os.loadavg()[0] ?? NaN;

async function getJson(n: NodeProcess, path: string): Promise<{ ms: number; body: unknown }> {
  const t0 = performance.now();
  const res = await fetch(`${n.apiUrl}${path}`, { signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${n.name}: GET ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return { ms, body: JSON.parse(text) as unknown };
}

/** Each node's figures over the run, as the watcher saw them. */
interface NodeWatch {
  loopLagMaxMs: number;
  leaderChangesAtStart: number;
  leaderChanges: number;
  rssBeforeMiB: number;
  rssMaxMiB: number;
}

/** Scrapes every node each second until `done`; each scrape starts a new lag interval, so the max over scrapes is the run's. */
async function watch(c: Cluster, nodes: NodeWatch[], leaders: Set<string>, loads: number[], done: () => boolean): Promise<void> {
  while (!done()) {
    await Promise.all(
      c.nodes.map(async (n, i) => {
        const w = nodes[i];
        if (w === undefined) return;
        const m = await scrapeMetrics(n);
        w.loopLagMaxMs = Math.max(w.loopLagMaxMs, m.loopLagMaxMs);
        w.leaderChanges = m.leaderChanges - w.leaderChangesAtStart;
        w.rssMaxMiB = Math.max(w.rssMaxMiB, rssMiB(n.pid));
        const leader = (await getCluster(n)).leader;
        if (leader !== null) leaders.add(leader);
      }),
    );
    loads.push(load1());
    await sleep(WATCH_EVERY_MS);
  }
}

interface Reads {
  readonly page: number[];
  readonly summary: number[];
}

/** Reads one at a time from the nodes in turn until `done`: a page of 500 at a moving cursor, then the summary. */
async function read(c: Cluster, id: string, n: number, reads: Reads, done: () => boolean): Promise<JobSummary> {
  let x = 12345;
  let last: JobSummary | undefined;
  for (let i = 0; !done() || last === undefined || last.state === 'running'; i++) {
    const node = c.nodes[i % c.nodes.length];
    if (node === undefined) throw new Error('a cluster without nodes');
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const cursor = encodeURIComponent(`big[${x % n}]`);
    reads.page.push((await getJson(node, `/v1/jobs/${id}/tasks?after=${cursor}`)).ms);
    const s = await getJson(node, `/v1/jobs/${id}/summary`);
    reads.summary.push(s.ms);
    last = s.body as JobSummary;
    if (last.state !== 'running') return last;
    await sleep(READ_PAUSE_MS);
  }
  return last;
}

async function submit(entry: NodeProcess, n: number): Promise<{ id: string; ms: number }> {
  const dag = { name: 'big-run', tasks: { big: { handler: 'noop', shards: n } } };
  const t0 = performance.now();
  const res = await fetch(`${entry.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${randomUUID()}` },
    body: JSON.stringify(dag),
    signal: AbortSignal.timeout(120_000),
  });
  const answer = (await res.json()) as { id?: string; error?: string };
  if (res.status !== 201 || answer.id === undefined) throw new Error(`the submit answered ${res.status}: ${JSON.stringify(answer)}`);
  return { id: answer.id, ms: performance.now() - t0 };
}

const met = (ok: boolean): string => (ok ? 'yes' : 'NO');

interface Compaction {
  readonly bytes: number;
  readonly steps?: number;
  readonly longestStepMs?: number;
  readonly encodeMs?: number;
}

/** The compactions a node logged (src/node/compactor.ts: JSON lines on stderr). */
function compactions(node: NodeProcess): Compaction[] {
  return node
    .stderr()
    .split('\n')
    .filter((line) => line.includes('log compacted into a snapshot'))
    .map((line) => JSON.parse(line) as Compaction);
}

export async function bigJobRunBench(n: number, quick: boolean): Promise<void> {
  await onCluster(SLOTS, async (c) => {
    const watched: NodeWatch[] = await Promise.all(
      c.nodes.map(async (node) => ({
        loopLagMaxMs: 0,
        leaderChangesAtStart: (await scrapeMetrics(node)).leaderChanges,
        leaderChanges: 0,
        rssBeforeMiB: rssMiB(node.pid),
        rssMaxMiB: 0,
      })),
    );
    const leaders = new Set<string>(c.leader === null ? [] : [c.leader]);
    const loads: number[] = [load1()];
    const entry = c.nodes[0];
    if (entry === undefined) throw new Error('a cluster without nodes');
    // MESHRUN_BENCH_PROFILE=<dir> (bench/cpu-profile.mjs preloaded): the nodes' profiles from the submit to the end.
    const profiling = process.env['MESHRUN_BENCH_PROFILE'] !== undefined;
    if (profiling) signalProfilers(c, 'big-job run');
    const { id, ms: acceptMs } = await submit(entry, n);
    let finished = false;
    const watcher = watch(c, watched, leaders, loads, () => finished);
    const reads: Reads = { page: [], summary: [] };
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    let end: JobSummary;
    try {
      end = await read(c, id, n, reads, () => finished || Date.now() > deadline);
    } finally {
      finished = true;
      await watcher;
    }
    if (profiling) {
      signalProfilers(c, 'big-job run');
      await sleep(5000);
    }
    if (end.state === 'running') throw new Error(`the job still runs after ${RUN_TIMEOUT_MS / 60_000} minutes`);
    const runMs = (end.finishedAt ?? NaN) - end.submittedAt;
    const perNode = c.nodes.map((node, i) => {
      const w = watched[i] as NodeWatch;
      const peak = Math.max(w.rssMaxMiB, peakRssMiB(node.pid));
      return { node, w, peak, perTask: ((peak - w.rssBeforeMiB) * 2 ** 20) / n };
    });
    const leaderChanges = Math.max(...watched.map((w) => w.leaderChanges));
    const worstPerTask = Math.max(...perNode.map((p) => p.perTask));
    const worstLag = Math.max(...watched.map((w) => w.loopLagMaxMs));
    const p99 = (xs: number[]) => percentile(xs, 99);
    const load = `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`;
    const rows: Row[] = [
      { figure: 'job end', target: 'succeeded', value: end.state, met: met(end.state === 'succeeded') },
      { figure: 'submit answered (accepted) ms', target: '-', value: Math.round(acceptMs), met: '' },
      { figure: 'run s (submit commit to end, scheduler time)', target: '-', value: runMs / 1000, met: '' },
      { figure: 'tasks/s', target: '-', value: n / (runMs / 1000), met: '' },
      {
        figure: 'leader changes (max node) / leaders seen',
        target: '0 / 1',
        value: `${leaderChanges} / ${leaders.size}`,
        met: met(leaderChanges === 0 && leaders.size === 1),
      },
      ...perNode.map((p) => ({
        figure: `${p.node.name}${p.node.id === c.leader ? ' (leader)' : ''}: RSS MiB before / peak; bytes per task`,
        target: `< ${RSS_PER_TASK_TARGET} B/task`,
        value: `${Math.round(p.w.rssBeforeMiB)} / ${Math.round(p.peak)}; ${Math.round(p.perTask)}`,
        met: met(p.perTask < RSS_PER_TASK_TARGET),
      })),
      ...perNode.map((p) => ({
        figure: `${p.node.name}${p.node.id === c.leader ? ' (leader)' : ''}: loop lag max ms`,
        target: `<= ${LOOP_LAG_TARGET_MS}`,
        value: Math.round(p.w.loopLagMaxMs),
        met: met(p.w.loopLagMaxMs <= LOOP_LAG_TARGET_MS),
      })),
      {
        figure: `page of 500 during the run (${reads.page.length} reads) p50 / p99 ms`,
        target: `< ${PAGE_TARGET_MS}`,
        value: `${Math.round(percentile(reads.page, 50))} / ${Math.round(p99(reads.page))}`,
        met: met(p99(reads.page) < PAGE_TARGET_MS),
      },
      {
        figure: `/summary during the run (${reads.summary.length} reads) p50 / p99 ms`,
        target: `< ${PAGE_TARGET_MS}`,
        value: `${Math.round(percentile(reads.summary, 50))} / ${Math.round(p99(reads.summary))}`,
        met: met(p99(reads.summary) < PAGE_TARGET_MS),
      },
      ...perNode.map((p) => {
        const cs = compactions(p.node).filter((x) => x.encodeMs !== undefined);
        const worst = (k: 'longestStepMs' | 'encodeMs' | 'bytes') => Math.max(0, ...cs.map((x) => x[k] ?? 0));
        const longest = worst('longestStepMs');
        return {
          figure: `${p.node.name}: snapshots taken; largest MiB; longest encode (wall) ms; longest slice ms`,
          target: `slice <= ${LOOP_LAG_TARGET_MS}`,
          value: `${cs.length}; ${(worst('bytes') / 2 ** 20).toFixed(1)}; ${worst('encodeMs')}; ${longest}`,
          met: met(longest <= LOOP_LAG_TARGET_MS),
        };
      }),
      { figure: 'load average (1 min) during the run, min-max', target: '', value: load, met: '' },
    ];
    printTable(`big-job run: 3 node processes x ${SLOTS} slots, one spec of ${n.toLocaleString('en-US')} noop shards run to its end`, rows);
    if (!quick)
      writeResults('big-job-run', rows, {
        tasks: n,
        slotsPerNode: SLOTS,
        acceptMs,
        runMs,
        leaderChanges,
        worstRssBytesPerTask: worstPerTask,
        worstLoopLagMs: worstLag,
        pageP50Ms: percentile(reads.page, 50),
        pageP99Ms: p99(reads.page),
        summaryP50Ms: percentile(reads.summary, 50),
        summaryP99Ms: p99(reads.summary),
        loadAverage: loads,
      });
    if (end.state !== 'succeeded') throw new Error(`the job ended ${end.state}\n${await failureReport(entry, id)}`);
  });
}
