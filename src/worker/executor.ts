// Runs the tasks this node claimed: `run` tasks as `sh -c` in their own process group, handler
// tasks as functions in this process. Every attempt ends in exactly one asynchronous `onDone`,
// after a `run` task's process has exited and its output is drained and logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../errors.js';
import { OUTPUT_BYTES, type ExecOutcome, type Json, type TaskLaunch } from '../scheduler/types.js';
import { builtinHandlers, type HandlerRegistry } from './handlers.js';
import { GroupLedger, killLeftovers } from './leftovers.js';
import { LogDirectories, TaskOutput, lastUtf8Bytes } from './output-tail.js';
import { GuardedGroups } from './supervisor-groups.js';
import { Supervisor } from './supervisor.js';
import { handlerEnv, shellEnv, taskLogPath } from './task-env.js';
import { clearTaskIo, prepareTaskIo, type TaskIo } from './task-io.js';
import type { ExecResult, Execution, Executor } from './types.js';

export interface ExecutorOptions {
  /** Logs go under <dataDir>/logs/<job>/<task>.<attempt>.log; running groups in <dataDir>/tasks.pids. */
  readonly dataDir: string;
  /** MESHRUN_NODE. */
  readonly nodeId: string;
  /** Defaults to the built-ins (noop, sleep). */
  readonly handlers?: HandlerRegistry;
  /** SIGTERM to SIGKILL delay (default 5000). */
  readonly killGraceMs?: number;
  readonly log?: (obj: object, msg: string) => void;
}

export type RunningExecutor = Executor & {
  /** Stops running tasks, waits for them (bounded) and ends the supervisor. */
  close(): Promise<void>;
  /** Attempts started whose onDone has not fired yet. */
  readonly running: number;
  /** The orphan guard's pid (see supervisor.ts), for tests and diagnostics. */
  readonly supervisorPid: number | undefined;
};

const DEFAULT_KILL_GRACE_MS = 5000;
/** setTimeout's limit; a longer task timeout is no timeout in practice. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long close() waits for the stopped tasks beyond their grace period. */
const CLOSE_SLACK_MS = 2000;

/** What the executor keeps of an attempt that has not finished yet. */
interface Attempt {
  stop(reason: string, graceMs?: number): void;
}

export async function createExecutor(opts: ExecutorOptions): Promise<RunningExecutor> {
  const graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const log = opts.log ?? ((): void => undefined);
  const registry = opts.handlers ?? builtinHandlers();

  const leftovers = await killLeftovers(opts.dataDir, graceMs);
  if (leftovers.killed.length > 0)
    log({ groups: leftovers.killed, forced: leftovers.forced }, 'killed task processes left by an earlier run of this node');
  clearTaskIo(opts.dataDir);
  const ledger = GroupLedger.create(opts.dataDir);
  const supervisor = await Supervisor.start({ graceMs, log });
  const groups = new GuardedGroups(supervisor, ledger, graceMs);
  const dirs = new LogDirectories();

  const live = new Set<Attempt>();
  let closed = false;
  /** Called when `live` empties while close() waits for it. */
  let onDrained: (() => void) | null = null;

  const track = (attempt: Attempt): void => {
    live.add(attempt);
  };
  const untrack = (attempt: Attempt): void => {
    live.delete(attempt);
    if (live.size === 0) onDrained?.();
  };

  const outputOf = (launch: TaskLaunch): TaskOutput =>
    new TaskOutput({
      path: () => taskLogPath(opts.dataDir, launch.job, launch.name, launch.attempt),
      dirs,
      onLogError: (err) =>
        log({ job: launch.job, task: launch.name, attempt: launch.attempt, err: err.message }, 'cannot write the task log'),
    });

  const context: AttemptContext = { nodeId: opts.nodeId, dataDir: opts.dataDir, graceMs, registry, groups, outputOf, track, untrack };

  return {
    get handlers(): readonly string[] {
      return registry.names();
    },
    get running(): number {
      return live.size;
    },
    get supervisorPid(): number | undefined {
      return supervisor.pid;
    },
    start(launch, onDone): Execution {
      if (closed) return refuse(onDone, 'the executor is closed (the node is shutting down)');
      return launch.exec.kind === 'run'
        ? startShell(context, launch, launch.exec.command, onDone)
        : startHandler(context, launch, launch.exec.name, launch.exec.args, onDone);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const attempt of [...live]) attempt.stop('the node is shutting down');
      if (live.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          onDrained = resolve;
          timer = setTimeout(resolve, graceMs + CLOSE_SLACK_MS);
        });
        clearTimeout(timer);
        if (live.size > 0) log({ running: live.size }, 'tasks still running at shutdown; the supervisor kills them');
      }
      groups.abandon();
      await supervisor.close(graceMs + CLOSE_SLACK_MS);
      ledger.close();
    },
  };
}

interface AttemptContext {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly graceMs: number;
  readonly registry: HandlerRegistry;
  readonly groups: GuardedGroups;
  readonly outputOf: (launch: TaskLaunch) => TaskOutput;
  readonly track: (attempt: Attempt) => void;
  readonly untrack: (attempt: Attempt) => void;
}

/** An attempt that cannot even start: it fails, still through an asynchronous onDone. */
function refuse(onDone: (result: ExecResult) => void, why: string): Execution {
  const result: ExecResult = { outcome: 'failed', exitCode: null, durationMs: 0, stdout: '', stderr: lastUtf8Bytes(`meshrun: ${why}\n`) };
  queueMicrotask(() => onDone(result));
  return { stop: () => undefined };
}

/** A timer for the attempt's timeout, or null when it is too long to matter. */
function timeoutTimer(timeoutMs: number, fire: () => void): NodeJS.Timeout | null {
  if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) return null;
  return setTimeout(fire, timeoutMs);
}

function startHandler(ctx: AttemptContext, launch: TaskLaunch, name: string, args: Json, onDone: (result: ExecResult) => void): Execution {
  const handler = ctx.registry.get(name);
  if (handler === undefined)
    return refuse(onDone, `no handler named ${JSON.stringify(name)} on this node (it has: ${ctx.registry.names().join(', ')})`);
  const startedAt = performance.now();
  const output = ctx.outputOf(launch);
  const abort = new LazyAbort();
  let finished = false;

  const finish = (outcome: ExecOutcome, note: string | null, handedOn?: string): void => {
    if (finished) return;
    finished = true;
    if (timer !== null) clearTimeout(timer);
    if (note !== null) output.note(note);
    const end = { outcome, exitCode: null, durationMs: Math.round(performance.now() - startedAt) };
    deliver(ctx, attempt, output, handedOn === undefined || handedOn === '' ? end : { ...end, output: handedOn }, onDone);
  };
  const attempt: Attempt = {
    stop(reason) {
      if (finished) return;
      abort.abort(new Error(`stopped: ${reason}`));
      finish('failed', `stopped: ${reason}`);
    },
  };
  const timer = timeoutTimer(launch.timeoutMs, () => {
    abort.abort(new Error(`timed out after ${launch.timeoutMs} ms`));
    finish('timeout', `timed out after ${launch.timeoutMs} ms`);
  });
  ctx.track(attempt);

  let running: Promise<unknown>;
  try {
    let env: Record<string, string> | undefined;
    running = Promise.resolve(
      handler({
        args,
        inputs: launch.inputs ?? {},
        // Made when the handler first reads them: `noop` never does, and building both for each of
        // tens of thousands of tasks was a third of the executor's time in the distinct-task benchmark.
        get signal() {
          return abort.signal;
        },
        get env() {
          return (env ??= handlerEnv(launch, ctx.nodeId));
        },
        log: (line) => {
          if (!finished) output.out(Buffer.from(line.endsWith('\n') ? line : `${line}\n`, 'utf8'));
        },
      }),
    );
  } catch (err) {
    running = Promise.reject(err instanceof Error ? err : new Error(errorMessage(err)));
  }
  running.then(
    (value) => {
      const problem = handlerOutputProblem(value);
      if (problem === null) finish('succeeded', null, value as string | undefined);
      else finish('failed', `handler ${name} ${problem}`);
    },
    (err: unknown) => finish('failed', `handler ${name} failed: ${errorMessage(err)}`),
  );
  return attempt;
}

/**
 * An AbortController made on the first read of its signal (a handler that never reads it costs no
 * controller); a signal read after abort() is aborted already, with the first reason.
 */
class LazyAbort {
  private controller: AbortController | null = null;
  private reason: Error | null = null;

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.reason !== null) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

function startShell(ctx: AttemptContext, launch: TaskLaunch, command: string, onDone: (result: ExecResult) => void): Execution {
  const startedAt = performance.now();
  const output = ctx.outputOf(launch);
  output.open();

  let io: TaskIo;
  try {
    io = prepareTaskIo(ctx.dataDir, launch);
  } catch (err) {
    const failed: Attempt = { stop: () => undefined };
    ctx.track(failed);
    queueMicrotask(() => {
      output.note(`cannot start the task: cannot write its $MESHRUN_INPUTS file: ${errorMessage(err)}`);
      deliver(ctx, failed, output, { outcome: 'failed', exitCode: null, durationMs: Math.round(performance.now() - startedAt) }, onDone);
    });
    return failed;
  }
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', command], {
      cwd: launch.cwd ?? undefined,
      env: { ...shellEnv(launch, ctx.nodeId), ...io.env },
      // Its own session and process group, so the whole tree can be signalled at once, and a
      // Ctrl-C to the node's terminal does not reach tasks before the node stops them itself.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const failed: Attempt = { stop: () => undefined };
    ctx.track(failed);
    io.discard();
    queueMicrotask(() => failToSpawn(ctx, failed, launch, output, err, startedAt, onDone));
    return failed;
  }
  if (child.pid === undefined) {
    // Node reports a missing cwd, like a missing sh, as an 'error' event on a later tick.
    const failed: Attempt = { stop: () => undefined };
    ctx.track(failed);
    child.once('error', (err) => {
      io.discard();
      failToSpawn(ctx, failed, launch, output, err, startedAt, onDone);
    });
    return failed;
  }
  child.on('error', () => undefined);

  const group = ctx.groups.adopt(child.pid);
  let ending: { outcome: ExecOutcome; note: string } | null = null;
  let exit: { code: number | null; durationMs: number } | null = null;

  const endEarly = (outcome: ExecOutcome, note: string, graceMs?: number): void => {
    // The outcome is the cause of the end: a stop or timeout after the process already exited changes nothing.
    if (exit !== null) return;
    if (ending !== null) {
      // Already stopping: a later, more urgent stop may still bring the SIGKILL forward.
      if (graceMs !== undefined) group.terminate(graceMs);
      return;
    }
    ending = { outcome, note };
    output.note(note);
    group.terminate(graceMs);
  };
  const attempt: Attempt = { stop: (reason, graceMs) => endEarly('failed', `stopped: ${reason}`, graceMs) };
  const timer = timeoutTimer(launch.timeoutMs, () =>
    endEarly('timeout', `timed out after ${launch.timeoutMs} ms; stopping its process group`),
  );
  ctx.track(attempt);

  child.stdout?.on('data', (chunk: Buffer) => output.out(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.err(chunk));
  child.once('exit', (code, signal) => {
    exit = { code, durationMs: Math.round(performance.now() - startedAt) };
    // The result carries no exit code then; the note (the last line of the stderr tail) says why.
    if (code === null && signal !== null) output.note(`killed by ${signal}`);
    if (timer !== null) clearTimeout(timer);
    // Whatever the shell left running in its group would outlive its slot and its lease.
    group.terminate();
  });
  // 'close' comes after 'exit' and once both pipes are drained (any process holding them has gone).
  child.once('close', () => {
    group.settle();
    const code = exit?.code ?? null;
    const outcome: ExecOutcome = ending?.outcome ?? (code === 0 ? 'succeeded' : 'failed');
    const end = { outcome, exitCode: code, durationMs: exit?.durationMs ?? Math.round(performance.now() - startedAt) };
    if (outcome !== 'succeeded') {
      io.discard();
      deliver(ctx, attempt, output, end, onDone);
      return;
    }
    // Only a success hands its output on; one that cannot be handed on fails the attempt (docs/task-environment.md §7).
    const collected = io.collect();
    if (!collected.ok) output.note(collected.problem);
    const result = !collected.ok
      ? { ...end, outcome: 'failed' as const }
      : collected.output === undefined
        ? end
        : { ...end, output: collected.output };
    deliver(ctx, attempt, output, result, onDone);
  });
  return attempt;
}

/** Why what a handler resolved with cannot be handed on as its output, or null when it can (a string of at most OUTPUT_BYTES, or nothing). */
function handlerOutputProblem(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string')
    return `resolved with ${typeof value === 'object' ? (value === null ? 'null' : 'an object') : `a ${typeof value}`}; a handler's output is a string (or nothing)`;
  const bytes = Buffer.byteLength(value);
  return bytes > OUTPUT_BYTES ? `returned an output of ${bytes} bytes, more than the ${OUTPUT_BYTES} (64 KiB) a task may hand on` : null;
}

/** The shell could not be started; a missing working directory is by far the likeliest cause. */
function failToSpawn(
  ctx: AttemptContext,
  attempt: Attempt,
  launch: TaskLaunch,
  output: TaskOutput,
  err: unknown,
  startedAt: number,
  onDone: (result: ExecResult) => void,
): void {
  const cwd = launch.cwd;
  output.note(
    cwd !== null && !isDirectory(cwd)
      ? `cannot start the task: its working directory ${cwd} does not exist or is not a directory`
      : `cannot start the task: ${errorMessage(err)}`,
  );
  deliver(ctx, attempt, output, { outcome: 'failed', exitCode: null, durationMs: Math.round(performance.now() - startedAt) }, onDone);
}

/**
 * Hands an ended attempt's result, with its output tails, to onDone once its log file is closed.
 * Always on a later tick: close() resolves at once when nothing was logged.
 */
function deliver(
  ctx: AttemptContext,
  attempt: Attempt,
  output: TaskOutput,
  end: Omit<ExecResult, 'stdout' | 'stderr'>,
  onDone: (result: ExecResult) => void,
): void {
  const result: ExecResult = { ...end, stdout: output.stdout.text(), stderr: output.stderr.text() };
  void output.close().then(() => {
    ctx.untrack(attempt);
    onDone(result);
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
