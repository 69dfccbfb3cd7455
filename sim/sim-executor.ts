// The simulated executor (src/worker/types.ts Executor): instead of a process or a handler, an
// attempt is a span of simulated time whose length and outcome come from the task's fate (see
// dag-gen.ts). Attempts are frozen with their node when it is paused (a frozen container: the
// node's process and its tasks' processes stop together), end at once when their node crashes
// (the orphan guard: a task's processes die with the node that started them) and end at once
// when stopped (no grace period: SIGKILL). The executor enforces the attempt's timeout, as the
// real one does. Every start and end is reported to the checkers.
import type { NodeId } from '../src/raft/types.js';
import type { SeededRng } from '../src/raft/rng.js';
import type { FinishOutcome, TaskLaunch } from '../src/scheduler/types.js';
import type { ExecResult, Execution, Executor } from '../src/worker/types.js';
import type { PlannedTask } from './dag-gen.js';
import type { ProcessClock } from './sim-clock.js';

export type ExecEnd = 'completed' | 'timeout' | 'stopped' | 'crashed';

/** One attempt as the simulated world saw it. */
export interface ExecRecord {
  readonly id: number;
  readonly node: NodeId;
  readonly boot: number;
  readonly job: string;
  readonly task: number;
  readonly name: string;
  readonly attempt: number;
  readonly fence: number;
  readonly startedAt: number;
  endedAt: number | null;
  end: ExecEnd | null;
  /** The outcome reported to the worker (set when the attempt ends). */
  outcome: FinishOutcome | null;
  /** The fate's outcome had it run to its end: 'failed' for a planned failure. */
  readonly planned: FinishOutcome;
  /** Frozen with its paused node. */
  frozen: boolean;
  /** What the worker handed it as $MESHRUN_INPUTS (TaskLaunch.inputs). */
  readonly inputs: Readonly<Record<string, string>>;
}

/** What executors share: the agenda, the fates, the randomness and the observers. */
export interface ExecWorld {
  now(): number;
  after(ms: number, fn: () => void): void;
  readonly rng: SeededRng;
  /** Numbers attempts for the trace. */
  nextExecId(): number;
  /** The fate of a task, found by the job's name (unique per seed) and the task's full name. */
  plan(jobName: string, task: number): PlannedTask | undefined;
  started(rec: ExecRecord): void;
  ended(rec: ExecRecord): void;
  thawed(rec: ExecRecord): void;
  fail(invariant: string, detail: string): void;
}

interface Attempt {
  readonly rec: ExecRecord;
  readonly onDone: (r: ExecResult) => void;
  /** Left to run, ms (while frozen), and the time it is due (while running). */
  remaining: number;
  due: number;
  /** Bumped to void a scheduled completion. */
  token: number;
  readonly result: ExecResult;
  readonly timesOut: boolean;
}

export class SimExecutor implements Executor {
  private readonly live = new Set<Attempt>();
  readonly counts = { started: 0, completed: 0, stopped: 0, crashed: 0 };

  constructor(
    private readonly world: ExecWorld,
    private readonly node: NodeId,
    private readonly boot: number,
    readonly handlers: readonly string[],
    private readonly clock: ProcessClock,
  ) {}

  start(launch: TaskLaunch, onDone: (result: ExecResult) => void): Execution {
    const w = this.world;
    const plan = w.plan(launch.jobName, launch.task);
    if (!plan || plan.name !== launch.name) {
      w.fail(
        'task numbering',
        `${this.node} was asked to run ${launch.jobName} task ${launch.task} '${launch.name}', the DAG's task ${launch.task} is '${plan?.name ?? '(none)'}'`,
      );
    }
    if (launch.exec.kind === 'handler' && !this.handlers.includes(launch.exec.name)) {
      w.fail(
        'handler',
        `${this.node} started ${launch.job}/${launch.name}, whose handler '${launch.exec.name}' it does not have (it has ${this.handlers.join(', ') || 'none'})`,
      );
    }
    const fate = plan?.fate ?? { kind: 'succeed', failFirst: 0 };
    const length = fate.kind === 'hang' ? launch.timeoutMs + 1000 : w.rng.range(plan?.minMs ?? 1, plan?.maxMs ?? 1);
    const timesOut = length > launch.timeoutMs;
    const fails = fate.kind === 'fail' || (fate.kind === 'succeed' && launch.attempt <= fate.failFirst);
    const planned: FinishOutcome = timesOut ? 'timeout' : fails ? 'failed' : 'succeeded';
    const handler = launch.exec.kind === 'handler';
    const duration = Math.min(length, launch.timeoutMs);
    const result: ExecResult = {
      outcome: planned,
      exitCode: planned === 'timeout' || handler ? null : fails ? failingExit(plan, launch.attempt) : 0,
      durationMs: duration,
      stdout: `${launch.name} attempt ${launch.attempt} on ${this.node}\n`,
      stderr: fails ? `${launch.name}: planned failure\n` : '',
      ...(planned === 'succeeded' ? outputOf(launch, this.node) : {}),
    };
    const rec: ExecRecord = {
      id: w.nextExecId(),
      node: this.node,
      boot: this.boot,
      job: launch.job,
      task: launch.task,
      name: launch.name,
      attempt: launch.attempt,
      fence: launch.fence,
      startedAt: w.now(),
      endedAt: null,
      end: null,
      outcome: null,
      planned,
      frozen: false,
      inputs: launch.inputs ?? {},
    };
    const a: Attempt = { rec, onDone, remaining: duration, due: w.now() + duration, token: 0, result, timesOut };
    this.live.add(a);
    this.counts.started++;
    w.started(rec);
    this.schedule(a);
    return { stop: (reason) => this.stop(a, reason) };
  }

  private schedule(a: Attempt): void {
    const token = ++a.token;
    this.world.after(a.due - this.world.now(), () => {
      if (token === a.token && a.rec.end === null && !a.rec.frozen) this.end(a, a.timesOut ? 'timeout' : 'completed', a.result);
    });
  }

  private stop(a: Attempt, reason: string): void {
    if (a.rec.end !== null) return;
    const ran = this.world.now() - a.rec.startedAt;
    this.end(a, 'stopped', { outcome: 'failed', exitCode: null, durationMs: ran, stdout: a.result.stdout, stderr: `stopped: ${reason}\n` });
  }

  private end(a: Attempt, how: ExecEnd, result: ExecResult): void {
    const rec = a.rec;
    rec.end = how;
    rec.endedAt = this.world.now();
    rec.outcome = result.outcome;
    a.token++;
    this.live.delete(a);
    if (how === 'stopped') this.counts.stopped++;
    else this.counts.completed++;
    this.world.ended(rec);
    // Exactly once, asynchronously, in this process (late if it is paused, never if it died).
    this.clock.after(0, () => a.onDone(result));
  }

  /** The node was paused: its attempts stop where they are. */
  freeze(): void {
    const now = this.world.now();
    for (const a of this.live) {
      if (a.rec.frozen) continue;
      a.rec.frozen = true;
      a.remaining = Math.max(0, a.due - now);
      a.token++;
    }
  }

  /** The node resumed (after its overdue timers ran): what is left of each attempt runs on. */
  thaw(): void {
    const now = this.world.now();
    for (const a of [...this.live]) {
      if (!a.rec.frozen || a.rec.end !== null) continue;
      a.rec.frozen = false;
      a.due = now + a.remaining;
      this.world.thawed(a.rec);
      this.schedule(a);
    }
  }

  /** The node crashed: every attempt's processes die with it; no onDone (nobody is left to hear it). */
  crash(): void {
    const now = this.world.now();
    for (const a of this.live) {
      a.rec.end = 'crashed';
      a.rec.endedAt = now;
      a.rec.outcome = 'failed';
      a.token++;
      this.counts.crashed++;
      this.world.ended(a.rec);
    }
    this.live.clear();
  }

  get running(): number {
    return this.live.size;
  }
}

/**
 * What a successful attempt hands on (docs/task-environment.md §7): two tasks in three write an
 * output naming the attempt and node (so a stale or misplaced one shows), the third none. Drawn
 * from the task's number, not the world's randomness, so that the seeds' other draws stay as they were.
 */
function outputOf(launch: TaskLaunch, node: NodeId): { output?: string } {
  return launch.task % 3 === 2 ? {} : { output: `${launch.name} attempt ${launch.attempt} on ${node}` };
}

function failingExit(plan: PlannedTask | undefined, attempt: number): number {
  const exits = plan?.exits ?? [];
  const code = exits[Math.min(attempt, exits.length) - 1];
  return code === undefined || code === 0 ? 1 : code;
}
