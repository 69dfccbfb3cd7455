// Real `meshrun node` processes on 127.0.0.1 for the multi-process tests: ephemeral ports,
// temporary data directories, every wait bounded, every process stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { ClusterView } from '../../src/api/types.js';

export const BIN = resolve(import.meta.dirname, '../../bin/meshrun');
/** The default bound on any wait for a cluster condition. */
export const WAIT_MS = 20_000;
/** Bound on a process printing its lines: starting is CPU-bound (tsx, libp2p), and tests start several at once on 2 cores. */
const START_MS = 30_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  readonly name: string;
  readonly pid: number;
  readonly dataDir: string;
  /** The first `listening` address (with /p2p/<id>). */
  readonly addr: string;
  readonly id: string;
  readonly apiUrl: string;
  /** The API token it was started with (MESHRUN_TOKEN), or null: getCluster, probe and apiFetch send it. */
  readonly token: string | null;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  /** Everything the process wrote to stderr (its logs), for assertions and failure reports. */
  stderr(): string;
}

export interface StartOptions {
  readonly name: string;
  readonly bootstrap?: readonly string[];
  /** Reuse a data directory (a restart); a fresh temporary one otherwise. */
  readonly dataDir?: string;
  readonly voters?: number;
  readonly swarmKey?: string;
  /**
   * Require this API token: it goes to the node in its MESHRUN_TOKEN environment variable (never
   * on the command line, where `ps` shows it, and which the node refuses).
   */
  readonly token?: string;
  readonly extra?: readonly string[];
  /** Added to the node's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Bound on the process printing its `listening` and `api` lines (a joining node prints them once admitted). Default 30 s. */
  readonly startTimeoutMs?: number;
}

/** A `meshrun` process started without waiting for anything (see Processes.spawn). */
export interface RawProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout: () => string;
  stderr: () => string;
}

/** Runs `meshrun` with arguments to completion (bounded); for the CLI's short-lived commands. */
export function runCli(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(BIN, [...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`meshrun ${args.join(' ')} did not finish within ${opts.timeoutMs ?? WAIT_MS} ms; stderr: ${stderr}`));
    }, opts.timeoutMs ?? WAIT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Owns every process and directory a test creates; `cleanup` in afterEach stops and removes them all. */
export class Processes {
  readonly all: NodeProcess[] = [];
  /** Every child spawned, started or not: cleanup kills them by PID. */
  private readonly children: { name: string; child: ChildProcess; exited: Promise<Exit> }[] = [];
  private readonly dirs: string[] = [];

  tempDir(prefix = 'meshrun-proc-'): string {
    const d = mkdtempSync(join(os.tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  /**
   * Spawns `meshrun args` (JSON logs) and returns at once; cleanup kills it by PID like the others.
   * `env` is added to this process's environment, less any MESHRUN_TOKEN of ours: a node gets a
   * token only when the test gives it one.
   */
  spawn(name: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): RawProcess {
    const { MESHRUN_TOKEN: _ours, ...inherited } = process.env;
    const child = spawn(BIN, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...inherited, MESHRUN_LOG_FORMAT: 'json', ...env } });
    if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<Exit>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    this.children.push({ name, child, exited });
    return { name, pid: child.pid, child, exited, stdout: () => stdout, stderr: () => stderr };
  }

  /** Starts a node and waits (bounded) for its `listening` and `api` lines. */
  async start(o: StartOptions): Promise<NodeProcess> {
    const dataDir = o.dataDir ?? join(this.tempDir(), 'data');
    const args = ['node', '--data', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--test-hooks'];
    for (const b of o.bootstrap ?? []) args.push('--bootstrap', b);
    if (o.voters !== undefined) args.push('--voters', String(o.voters));
    if (o.swarmKey !== undefined) args.push('--swarm-key', o.swarmKey);
    const env: Record<string, string> = {};
    if (o.token !== undefined) env['MESHRUN_TOKEN'] = o.token;
    args.push(...(o.extra ?? []));
    // Registered (by spawn) before the wait, so a process that never prints its lines is still cleaned up.
    const { child, pid, exited, stderr } = this.spawn(o.name, args, { ...o.env, ...env });
    const listening: string[] = [];
    const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
    const startMs = o.startTimeoutMs ?? START_MS;
    const api = await new Promise<string>((resolveApi, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${o.name} (pid ${pid}) printed no api line within ${startMs} ms; stderr:\n${tail(stderr())}`)),
        startMs,
      );
      lines.on('line', (line) => {
        if (line.startsWith('listening ')) listening.push(line.slice('listening '.length));
        if (line.startsWith('api ')) {
          clearTimeout(timer);
          resolveApi(line.slice('api '.length));
        }
      });
      void exited.then((e) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${o.name} (pid ${pid}) exited (code ${e.code}, signal ${e.signal}) before printing its api line; stderr:\n${tail(stderr())}`,
          ),
        );
      });
    });
    const addr = listening[0];
    if (addr === undefined) throw new Error(`${o.name}: no listening line before the api line`);
    const id = /\/p2p\/([^/]+)$/.exec(addr)?.[1] ?? '';
    const node: NodeProcess = { name: o.name, pid, dataDir, addr, id, apiUrl: api, token: o.token ?? null, child, exited, stderr };
    this.all.push(node);
    return node;
  }

  /** Sends `signal` by PID and waits (bounded) for the exit. */
  async stop(
    node: Pick<NodeProcess, 'name' | 'pid' | 'child' | 'exited'>,
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = WAIT_MS,
  ): Promise<Exit> {
    if (node.child.exitCode === null && node.child.signalCode === null) process.kill(node.pid, signal);
    return withDeadline(node.exited, timeoutMs, `${node.name} (pid ${node.pid}) to exit after ${signal}`);
  }

  /** Stops every process still running (SIGTERM, then SIGKILL), then removes the directories. */
  async cleanup(): Promise<void> {
    const running = this.children.splice(0).filter((n) => n.child.exitCode === null && n.child.signalCode === null);
    // SIGKILL straight away: cleanup is not the place to wait for graceful leaves.
    for (const n of running) {
      try {
        if (n.child.pid !== undefined) process.kill(n.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all(running.map((n) => withDeadline(n.exited, 5000, `${n.name} to die`).catch(() => undefined)));
    this.all.length = 0;
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }

  /** Every node's stderr, for a failure report. */
  logs(): string {
    return this.all.map((n) => `--- ${n.name} (pid ${n.pid}, ${n.id.slice(-8)})\n${tail(n.stderr(), 60)}`).join('\n');
  }
}

/** The Authorization header for `node`'s token, if it has one. */
export function authHeaders(node: Pick<NodeProcess, 'token'>): Record<string, string> {
  return node.token === null ? {} : { authorization: `Bearer ${node.token}` };
}

/** fetch on `node`'s API with its token (and a JSON body when `body` is given); bounded by `timeoutMs`. */
export async function apiFetch(
  node: Pick<NodeProcess, 'apiUrl' | 'token'>,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    ...authHeaders(node),
    ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...init.headers,
  };
  return fetch(`${node.apiUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(init.timeoutMs ?? 5000),
  });
}

export async function getCluster(node: NodeProcess): Promise<ClusterView> {
  const res = await fetch(`${node.apiUrl}/v1/cluster`, { headers: authHeaders(node), signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${node.name}: GET /v1/cluster answered ${res.status}`);
  return (await res.json()) as ClusterView;
}

export async function probe(node: NodeProcess, value: string): Promise<{ status: number; body: { index?: number; error?: string } }> {
  const res = await fetch(`${node.apiUrl}/v1/debug/probe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(node) },
    body: JSON.stringify({ value }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as { index?: number; error?: string } };
}

export async function probes(node: NodeProcess): Promise<string[]> {
  const res = await fetch(`${node.apiUrl}/v1/debug/probes`, { headers: authHeaders(node), signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { values: string[] }).values;
}

/**
 * Polls `check` until it returns a value other than undefined, or fails after `timeoutMs` with
 * `what` and the last observation (or error) in the message. Errors inside `check` (a node
 * restarting, a refused connection) count as "not yet".
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = WAIT_MS, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'nothing observed';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last: ${typeof last === 'string' ? last : JSON.stringify(last)}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The views of `nodes` once they all agree on one leader and on the voter and learner sets. */
export async function agreedView(
  nodes: readonly NodeProcess[],
  want: { voters: number; learners: number; where?: (v: ClusterView) => boolean },
  timeoutMs = WAIT_MS,
): Promise<ClusterView[]> {
  let lastViews: ClusterView[] = [];
  try {
    return await eventually(
      `${nodes.length} nodes to agree on one leader, ${want.voters} voters and ${want.learners} learners`,
      async () => {
        const views = await Promise.all(nodes.map(getCluster));
        lastViews = views;
        const [first] = views;
        if (!first || first.leader === null) return undefined;
        const same = views.every(
          (v) =>
            v.leader === first.leader && v.term === first.term && sameSet(v.voters, first.voters) && sameSet(v.learners, first.learners),
        );
        const leaders = views.filter((v) => v.role === 'leader');
        if (!same || leaders.length !== 1 || first.voters.length !== want.voters || first.learners.length !== want.learners)
          return undefined;
        if (want.where && !want.where(first)) return undefined;
        return views;
      },
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast views:\n${lastViews.map((v) => JSON.stringify(v)).join('\n')}`);
  }
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function tail(s: string, lines = 30): string {
  return s.split('\n').slice(-lines).join('\n');
}

/** A loopback port nothing listens on right now (bound, then released): to start a node on, or to find nobody at. */
export async function unusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
