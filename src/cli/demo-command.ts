// `meshrun demo [--exit]`: a three-node cluster on this machine, started as child processes of
// bin/meshrun (temporary data directories, loopback, ephemeral ports), running examples/etl.yaml
// with live progress, then the dashboard's address. It stays up until Ctrl-C (SIGINT, SIGTERM,
// SIGHUP), which stops the three nodes by PID and removes the temporary directory; with --exit it
// stops once the job ends and exits 0 if the job succeeded, 1 if not. Every wait is bounded; a
// node that fails to start stops the others and ends the demo with exit 3 and its log's tail.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ClusterView } from '../api/types.js';
import type { JobDetail } from '../scheduler/types.js';
import { collectTasks } from './task-pages.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { apiGet, ApiClient } from './client.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { formatMs, nodeLabels, shortId } from './format.js';
import { formatStatus, knownNodes } from './job-commands.js';
import { follow, FollowAborted, progressFor } from './progress.js';
import { submitFile } from './submit-command.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'meshrun');
export const DEMO_DAG = join(PACKAGE_ROOT, 'examples', 'etl.yaml');
const NODES = 3;
/** One node printing its lines: starting is CPU-bound (loading code, libp2p), three at once on a small machine. */
const START_MS = 60_000;
const VOTERS_MS = 60_000;
const JOB_MS = 5 * 60_000;
/** A node's graceful leave and stop, before it gets SIGKILL. */
const STOP_MS = 10_000;
/** A second signal this soon after the first is the same Ctrl-C (npm forwards the terminal's to its child). */
const SECOND_SIGNAL_MS = 1500;

export interface DemoOptions {
  readonly exit?: boolean;
  readonly file?: string;
}

interface DemoNode {
  readonly n: number;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<void>;
  addr: string;
  id: string;
  api: string;
}

class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

export async function demoCommand(opts: DemoOptions, out: (s: string) => void, err: (s: string) => void): Promise<ExitCode> {
  const file = opts.file ?? DEMO_DAG;
  const root = mkdtempSync(join(os.tmpdir(), 'meshrun-demo-'));
  const cluster = new DemoCluster(root);
  const stop = new AbortController();
  let firstSignal = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stop.signal.aborted) {
      firstSignal = Date.now();
      out(`\n${signal}: stopping the cluster (again to stop at once)\n`);
      stop.abort();
    } else if (Date.now() - firstSignal > SECOND_SIGNAL_MS) {
      out(`${signal}: killing the nodes\n`);
      cluster.kill();
    }
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) {
    process.removeAllListeners(s);
    process.on(s, onSignal);
  }

  let outcome: 'succeeded' | 'failed' | null = null;
  try {
    out(`meshrun demo: starting ${NODES} nodes on 127.0.0.1 (temporary data in ${root})\n`);
    const t0 = Date.now();
    const first = await cluster.start(1, [], stop.signal);
    out(nodeLine(first));
    const rest = await Promise.all([2, 3].map((n) => cluster.start(n, [first.addr], stop.signal)));
    for (const node of rest) out(nodeLine(node));
    const view = await cluster.waitForVoters(first, stop.signal);
    out(`cluster ready: ${view.voters.length} voters, leader ${shortId(view.leader)} (${formatMs(Date.now() - t0)})\n\n`);

    const base = first.api;
    // Any of the three answers for the others: the demo follows its job whichever node stays.
    const client = new ApiClient([base, ...rest.map((n) => n.api)], process.env, err);
    const id = await submitFile(client, file);
    out(`dashboard  ${base}/\n`);
    out(`job        ${id}  ${base}/#/jobs/${id}   (${file})\n\n`);
    const deadline = AbortSignal.any([stop.signal, AbortSignal.timeout(JOB_MS)]);
    let final;
    try {
      final = await follow(client, id, progressFor(out), deadline);
    } catch (e) {
      if (e instanceof FollowAborted && !stop.signal.aborted)
        throw new CliError(`job ${id} did not end within ${formatMs(JOB_MS)}`, EXIT.jobFailed);
      throw e;
    }
    outcome = final.state === 'succeeded' ? 'succeeded' : 'failed';
    const job = await client.get<JobDetail>(`/v1/jobs/${encodeURIComponent(id)}`);
    const tasks = await collectTasks((path) => client.get(path), id, { limit: 50 }, 50);
    out(`\n${formatStatus(job, tasks, Date.now(), nodeLabels(await knownNodes(client)))}\n`);
    out(`job ${id} ${final.state}\n`);
    if (opts.exit) return outcome === 'succeeded' ? EXIT.ok : EXIT.jobFailed;

    out(
      `\nthe cluster keeps running; try:\n` +
        `  bin/meshrun status ${id} --api ${base}\n` +
        `  bin/meshrun logs ${id} fetch-rates --attempt 1 --api ${base}\n` +
        `  bin/meshrun nodes --api ${base}\n` +
        `  bin/meshrun submit ${file} --wait --api ${base}\n` +
        `press Ctrl-C to stop the nodes and remove ${root}\n`,
    );
    await Promise.race([
      new Promise<void>((r) => stop.signal.addEventListener('abort', () => r(), { once: true })),
      cluster.anyExit().then((n) => {
        throw new CliError(`node ${n.n} (pid ${n.pid}) exited on its own; its log:\n${tail(n.logFile)}`, EXIT.unreachable);
      }),
    ]);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof Interrupted || (e instanceof FollowAborted && stop.signal.aborted)) {
      return outcome === 'succeeded' ? EXIT.ok : EXIT.jobFailed;
    }
    if (e instanceof CliError && e.exitCode === EXIT.unreachable) {
      // The message says which node; the others' logs are gone with the directory, so show their tails now.
      err(cluster.logTails());
    }
    throw e;
  } finally {
    const stopped = await cluster.stop(out);
    rmSync(root, { recursive: true, force: true });
    out(`stopped ${stopped} node(s) and removed ${root}\n`);
    for (const s of signals) process.removeListener(s, onSignal);
  }
}

function nodeLine(n: DemoNode): string {
  return `node ${n.n}  pid ${n.pid}  api ${n.api}  id ${n.id}\n`;
}

class DemoCluster {
  readonly nodes: DemoNode[] = [];

  constructor(private readonly root: string) {}

  /** Spawns `meshrun node` number n (own process group, so a terminal's Ctrl-C reaches only the demo) and waits for its lines. */
  async start(n: number, bootstrap: readonly string[], signal: AbortSignal): Promise<DemoNode> {
    if (signal.aborted) throw new Interrupted();
    const data = join(this.root, `node${n}`);
    const tmp = join(this.root, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const logFile = join(this.root, `node${n}.log`);
    const logFd = openSync(logFile, 'a');
    const args = [
      BIN,
      'node',
      '--data',
      data,
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--api',
      '127.0.0.1:0',
      '--slots',
      '2',
      '--name',
      `n${n}`,
    ];
    for (const b of bootstrap) args.push('--bootstrap', b);
    let child: ChildProcess;
    try {
      // The tasks' $TMPDIR is inside the demo's directory, so whatever they leave goes with it.
      child = spawn(process.execPath, args, {
        detached: true,
        stdio: ['ignore', 'pipe', logFd],
        env: { ...demoNodeEnv(process.env), TMPDIR: tmp },
      });
    } finally {
      closeSync(logFd);
    }
    if (child.pid === undefined)
      throw new CliError(`could not start node ${n}: spawn of ${process.execPath} ${BIN} failed`, EXIT.unreachable);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const node: DemoNode = { n, child, pid: child.pid, logFile, exited, addr: '', id: '', api: '' };
    this.nodes.push(node);
    const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          fail(
            new CliError(
              `node ${n} (pid ${node.pid}) did not start within ${formatMs(START_MS)}; its log:\n${tail(logFile)}`,
              EXIT.unreachable,
            ),
          ),
        START_MS,
      );
      const onAbort = (): void => fail(new Interrupted());
      signal.addEventListener('abort', onAbort, { once: true });
      function fail(e: Error): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(e);
      }
      lines.on('line', (line) => {
        if (line.startsWith('listening ') && node.addr === '') node.addr = line.slice('listening '.length);
        if (line.startsWith('api ')) {
          node.api = line.slice('api '.length);
          node.id = /\/p2p\/([^/]+)$/.exec(node.addr)?.[1] ?? '';
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve();
        }
      });
      void exited.then(() =>
        fail(
          new CliError(
            `node ${n} (pid ${node.pid}) exited (code ${child.exitCode}, signal ${child.signalCode}) before it started; its log:\n${tail(logFile)}`,
            EXIT.unreachable,
          ),
        ),
      );
    });
    if (node.addr === '') throw new CliError(`node ${n} printed no listening address`, EXIT.unreachable);
    return node;
  }

  /** Polls the first node until the cluster has NODES voters and a leader. */
  async waitForVoters(first: DemoNode, signal: AbortSignal): Promise<ClusterView> {
    const deadline = Date.now() + VOTERS_MS;
    let last: ClusterView | null = null;
    for (;;) {
      if (signal.aborted) throw new Interrupted();
      const gone = this.nodes.find((n) => !alive(n));
      if (gone)
        throw new CliError(
          `node ${gone.n} (pid ${gone.pid}) exited while the cluster formed; its log:\n${tail(gone.logFile)}`,
          EXIT.unreachable,
        );
      try {
        last = await apiGet<ClusterView>(first.api, '/v1/cluster');
        if (last.voters.length >= NODES && last.leader !== null) return last;
      } catch {
        // not answering yet: keep polling until the deadline
      }
      if (Date.now() > deadline) {
        throw new CliError(
          `the cluster did not reach ${NODES} voters within ${formatMs(VOTERS_MS)} (last view: ${JSON.stringify(last)})`,
          EXIT.unreachable,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Resolves with the first node that exits. */
  anyExit(): Promise<DemoNode> {
    return Promise.race(this.nodes.map((n) => n.exited.then(() => n)));
  }

  /** Stops the nodes one at a time, last started first (each leaves the cluster gracefully), by PID; SIGKILL past STOP_MS. */
  async stop(out: (s: string) => void): Promise<number> {
    let count = 0;
    for (const node of [...this.nodes].reverse()) {
      if (!alive(node)) continue;
      count++;
      signalPid(node.pid, 'SIGTERM');
      const ended = await Promise.race([
        node.exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), STOP_MS).unref()),
      ]);
      if (!ended) {
        out(`node ${node.n} (pid ${node.pid}) did not stop within ${formatMs(STOP_MS)}: SIGKILL\n`);
        signalPid(node.pid, 'SIGKILL');
        await Promise.race([node.exited, new Promise((r) => setTimeout(r, 3000).unref())]);
      }
    }
    return count;
  }

  /** A second Ctrl-C: no more waiting. */
  kill(): void {
    for (const n of this.nodes) if (alive(n)) signalPid(n.pid, 'SIGKILL');
  }

  logTails(): string {
    return this.nodes.map((n) => `--- node ${n.n} (pid ${n.pid}) log tail:\n${tail(n.logFile)}\n`).join('');
  }
}

/**
 * The nodes' environment: this one without MESHRUN_TOKEN, which a node takes as its API token. The
 * demo's nodes are on loopback and need none; a token exported for the client commands would make
 * the dashboard ask for it.
 */
export function demoNodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MESHRUN_TOKEN: _token, ...rest } = env;
  return rest;
}

function alive(n: DemoNode): boolean {
  return n.child.exitCode === null && n.child.signalCode === null;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `  ${l}`)
    .join('\n');
}
