// Three real `meshrun node` processes on 127.0.0.1 the way an operator should run them: a swarm
// key (`meshrun keygen`, --swarm-key) and an API token (MESHRUN_TOKEN), plus what the adversary
// tests ask of such a cluster through its API: is it settled (one leader, the same voters), does
// it still run a DAG, what jobs and nodes does each node show, how much memory does a node hold.
// Every wait is bounded; every request carries the token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterView, NodeInfo } from '../../src/api/types.js';
import type { JobSummary, JobView } from '../../src/scheduler/types.js';
import { apiFetch, eventually, getCluster, runCli, sameSet, type NodeProcess, type Processes } from './spawn.js';
import { nodeGet, wholeJob } from './whole-job.js';

/** Terms of a healthy cluster in these tests stay far below this (a few elections at most). */
export const SMALL_TERM = 1000;
/** Bound on a DAG of a few short tasks reaching `succeeded` on a busy 2-core machine. */
export const DAG_MS = 45_000;
/** Bound on a cluster agreeing on a leader (after an attack, a restart, a new election). */
export const SETTLE_MS = 30_000;

export interface Secrets {
  /** The swarm key file, written by `meshrun keygen`. */
  readonly swarmKeyFile: string;
  readonly token: string;
}

/** Writes a swarm key with the CLI (`meshrun keygen FILE`) into `dir`. */
export async function keygen(dir: string): Promise<string> {
  const file = join(dir, 'swarm.key');
  const r = await runCli(['keygen', file]);
  if (r.code !== 0) throw new Error(`meshrun keygen exited ${r.code}: ${r.stderr}`);
  return file;
}

export interface Cluster {
  readonly label: string;
  /** The three nodes; a row that restarts one replaces its entry (same identity, same data dir). */
  readonly nodes: NodeProcess[];
  /** Their peer ids: the voters, for good. */
  readonly ids: readonly string[];
}

/** Flags every node of these tests gets besides the key and token: two task slots whatever the machine (Processes.start adds --test-hooks). */
export const NODE_FLAGS = ['--slots', '2'] as const;

/** Options of a node of a secure cluster: the swarm key and token, the common flags, and whatever else. */
export function secureStart(
  secrets: Secrets,
  name: string,
  more: { bootstrap?: readonly string[]; dataDir?: string; extra?: readonly string[]; startTimeoutMs?: number } = {},
) {
  return {
    name,
    ...(more.startTimeoutMs ? { startTimeoutMs: more.startTimeoutMs } : {}),
    swarmKey: secrets.swarmKeyFile,
    token: secrets.token,
    ...(more.bootstrap ? { bootstrap: more.bootstrap } : {}),
    ...(more.dataDir ? { dataDir: more.dataDir } : {}),
    extra: [...NODE_FLAGS, ...(more.extra ?? [])],
  };
}

/** Starts three nodes (the second and third joining through the first) and waits until they agree: three voters, one leader. */
export async function startCluster(procs: Processes, secrets: Secrets, label: string): Promise<Cluster> {
  const first = await procs.start(secureStart(secrets, `${label}-1`));
  const rest = await Promise.all([2, 3].map((k) => procs.start(secureStart(secrets, `${label}-${k}`, { bootstrap: [first.addr] }))));
  const nodes = [first, ...rest];
  const c: Cluster = { label, nodes, ids: nodes.map((n) => n.id) };
  await settled(c, { learners: 0 });
  return c;
}

/** SIGKILLs every node of `c` still running, by PID, and waits for the exits. */
export async function stopCluster(procs: Processes, c: Cluster): Promise<void> {
  await Promise.all(c.nodes.map((n) => procs.stop(n, 'SIGKILL').catch(() => undefined)));
}

export function alive(n: NodeProcess): boolean {
  return n.child.exitCode === null && n.child.signalCode === null;
}

/**
 * The views of all nodes of `c` once they agree on one leader among `c.ids`, on the term, and on
 * the voters being exactly `c.ids` (learners: whatever they agree on, unless `learners` is given).
 * Times out with the last views in the message: a changed voter set or a runaway term shows there.
 */
export async function settled(c: Cluster, opts: { learners?: number; timeoutMs?: number } = {}): Promise<ClusterView[]> {
  let last: ClusterView[] = [];
  try {
    return await eventually(
      `${c.label}: one leader among the three voters, agreed by all three`,
      async () => {
        const views = await Promise.all(c.nodes.map(getCluster));
        last = views;
        const [first] = views;
        if (first === undefined || first.leader === null || !c.ids.includes(first.leader)) return undefined;
        const agree = views.every(
          (v) => v.leader === first.leader && v.term === first.term && sameSet(v.voters, c.ids) && sameSet(v.learners, first.learners),
        );
        if (!agree || views.filter((v) => v.role === 'leader').length !== 1) return undefined;
        if (opts.learners !== undefined && first.learners.length !== opts.learners) return undefined;
        return views;
      },
      opts.timeoutMs ?? SETTLE_MS,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast views:\n${last.map((v) => JSON.stringify(v)).join('\n')}`);
  }
}

export function leaderOf(c: Cluster, views: readonly ClusterView[]): NodeProcess {
  const id = views[0]?.leader;
  const n = c.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`${c.label}: leader ${String(id)} is not one of the nodes`);
  return n;
}

export function followersOf(c: Cluster, views: readonly ClusterView[]): NodeProcess[] {
  const leader = leaderOf(c, views);
  return c.nodes.filter((n) => n !== leader);
}

/** Submits `dag` through `node`'s API with its token; retries (bounded) while there is no leader (503). Returns the job id. */
export async function submitJob(node: NodeProcess, dag: unknown, timeoutMs = 20_000): Promise<string> {
  return eventually(
    `${node.name} to accept a job`,
    async () => {
      const res = await apiFetch(node, '/v1/jobs', { body: dag, timeoutMs: 15_000 });
      const body = (await res.json()) as { id?: string; error?: string };
      if (res.status === 201 && body.id !== undefined) return body.id;
      if (res.status === 503) throw new Error(`503: ${body.error ?? ''}`);
      throw new Error(`POST /v1/jobs on ${node.name} answered ${res.status}: ${JSON.stringify(body)}`);
    },
    timeoutMs,
    200,
  );
}

/** GET /v1/jobs/{id} on `node`: the job, or null when the node does not have it (404). */
export async function getJob(node: NodeProcess, id: string): Promise<JobView | null> {
  const res = await apiFetch(node, `/v1/jobs/${encodeURIComponent(id)}`);
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`GET /v1/jobs/${id} on ${node.name} answered ${res.status}: ${await res.text()}`);
  return wholeJob(nodeGet(node), id);
}

export async function listJobs(node: NodeProcess): Promise<JobSummary[]> {
  const res = await apiFetch(node, '/v1/jobs');
  if (res.status !== 200) throw new Error(`GET /v1/jobs on ${node.name} answered ${res.status}`);
  return ((await res.json()) as { jobs: JobSummary[] }).jobs;
}

export async function listNodes(node: NodeProcess): Promise<NodeInfo[]> {
  const res = await apiFetch(node, '/v1/nodes');
  if (res.status !== 200) throw new Error(`GET /v1/nodes on ${node.name} answered ${res.status}`);
  return ((await res.json()) as { nodes: NodeInfo[] }).nodes;
}

/** Waits (bounded) until `node` shows job `id` ended, and returns it. */
export async function jobEnded(node: NodeProcess, id: string, timeoutMs = DAG_MS): Promise<JobView> {
  return eventually(
    `job ${id} to end on ${node.name}`,
    async () => {
      const j = await getJob(node, id);
      return j !== null && j.state !== 'running' ? j : undefined;
    },
    timeoutMs,
    150,
  );
}

/** Jobs (id and name) on every running node of `c` whose name or id starts with `prefix`. */
export async function jobsNamed(c: Cluster, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const n of c.nodes.filter(alive)) {
    for (const j of await listJobs(n))
      if (j.name.startsWith(prefix) || j.id.startsWith(prefix)) found.push(`${n.name}: job ${j.id} '${j.name}' (${j.state})`);
  }
  return found;
}

let checks = 0;

/**
 * What every row ends with: the cluster settles on a leader among its three voters with a small
 * term, and a small DAG (a shell task, then a handler task) submitted through one of the nodes
 * with the token reaches `succeeded`. Returns the views once settled.
 */
export async function stillWorks(c: Cluster, label: string): Promise<ClusterView[]> {
  const views = await settled(c);
  const terms = views.map((v) => v.term);
  if (Math.max(...terms) >= SMALL_TERM) throw new Error(`${c.label}: terms ${terms.join(', ')} are not small (>= ${SMALL_TERM})`);
  const via = c.nodes[checks++ % c.nodes.length] as NodeProcess;
  const id = await submitJob(via, { name: `check-${label}`, tasks: { a: { run: 'true' }, b: { handler: 'noop', deps: ['a'] } } });
  const job = await jobEnded(via, id);
  if (job.state !== 'succeeded') throw new Error(`${c.label}: the check DAG ${id} ended ${job.state}: ${JSON.stringify(job.tasks)}`);
  const after = await settled(c);
  const termsAfter = after.map((v) => v.term);
  if (Math.max(...termsAfter) >= SMALL_TERM) throw new Error(`${c.label}: terms ${termsAfter.join(', ')} are not small (>= ${SMALL_TERM})`);
  return after;
}

/** The resident set of process `pid` in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Each node's stderr lines at level error (50) or fatal (60) after the given offsets. */
export function errorLines(nodes: readonly NodeProcess[], from: ReadonlyMap<number, number>): string[] {
  return nodes.flatMap((n) =>
    n
      .stderr()
      .slice(from.get(n.pid) ?? 0)
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l))
      .map((l) => `${n.name}: ${l}`),
  );
}
