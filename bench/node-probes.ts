// What the benchmarks read from a running `meshrun node` process: its scheduler counters and Raft
// frames (debug API, --test-hooks), its event-loop lag and leader changes (GET /metrics), its CPU
// time and peak memory (/proc).
import { readFileSync } from 'node:fs';
import type { NodeProcess } from '../test/process/spawn.js';

export interface SchedulerCounters {
  readonly claimsAccepted: number;
  readonly claimsRejected: number;
  readonly applied: number;
}

async function getJson(n: NodeProcess, path: string): Promise<unknown> {
  const res = await fetch(`${n.apiUrl}${path}`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`${n.name}: GET ${path} answered ${res.status}`);
  return res.json();
}

export async function schedulerCounters(n: NodeProcess): Promise<SchedulerCounters> {
  return ((await getJson(n, '/v1/debug/stats')) as { scheduler: SchedulerCounters }).scheduler;
}

/** Raft frames this node's transport has sent so far. */
export async function framesSent(n: NodeProcess): Promise<number> {
  const r = (await getJson(n, '/v1/debug/net')) as { transport?: { framesSent?: number } };
  return r.transport?.framesSent ?? NaN;
}

export interface MetricsReading {
  /**
   * The longest the event loop was late since the previous scrape (prom-client's
   * `nodejs_eventloop_lag_max_seconds`, whose histogram is reset by every scrape), in ms.
   */
  readonly loopLagMaxMs: number;
  readonly leaderChanges: number;
}

/** Scrapes GET /metrics; a scrape also starts a new event-loop lag interval. */
export async function scrapeMetrics(n: NodeProcess): Promise<MetricsReading> {
  const res = await fetch(`${n.apiUrl}/metrics`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`${n.name}: GET /metrics answered ${res.status}`);
  const text = await res.text();
  const sample = (name: string): number => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (m === null) throw new Error(`${n.name}: GET /metrics has no sample ${name}`);
    return Number(m[1]);
  };
  return { loopLagMaxMs: 1000 * sample('nodejs_eventloop_lag_max_seconds'), leaderChanges: sample('meshrun_raft_leader_changes_total') };
}

/** CPU time (user + system) a process has used, in ms, from /proc: figures that the machine's other load does not inflate as much as wall time. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  // After the command name: state is field 3; utime and stime are fields 14 and 15 (1-based, in clock ticks of 10 ms).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** VmHWM: the resident set's high-water mark of a live process. */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
