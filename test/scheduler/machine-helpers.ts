// Builders and a small driver for the scheduler state machine's tests.
import { Scheduler } from '../../src/scheduler/machine.js';
import type { ScheduleSpec } from '../../src/scheduler/schedule-types.js';
import type { Command, Effect, FinishItem, FinishOutcome, JobSpec, TaskSpec } from '../../src/scheduler/types.js';

export function task(name: string, over: Partial<TaskSpec> = {}): TaskSpec {
  return {
    name,
    exec: { kind: 'run', command: 'true' },
    deps: [],
    retries: 0,
    backoffMs: 1000,
    timeoutMs: 60_000,
    priority: 0,
    slots: 1,
    env: {},
    cwd: null,
    shards: null,
    ...over,
  };
}

export function handlerTask(name: string, handler: string, over: Partial<TaskSpec> = {}): TaskSpec {
  return task(name, { exec: { kind: 'handler', name: handler, args: null }, ...over });
}

export function job(tasks: TaskSpec[], over: Partial<JobSpec> = {}): JobSpec {
  return { name: 'test-job', retentionMs: 3_600_000, tasks, ...over };
}

/** A chain a -> b -> c ... of `n` tasks. */
export function chain(n: number, over: Partial<TaskSpec> = {}): JobSpec {
  return job(Array.from({ length: n }, (_, i) => task(`t${i}`, { deps: i === 0 ? [] : [`t${i - 1}`], ...over })));
}

export interface HbOptions {
  boot?: number;
  slots?: number;
  handlers?: string[];
  leaseMs?: number;
  seq?: number;
  labels?: Record<string, string>;
  ahead?: number;
}

/** Applies commands at increasing log indexes and a clock the test moves. */
export class Driver {
  readonly m: Scheduler;
  index = 0;
  time = 1_000;
  private readonly seqs = new Map<string, number>();
  /** Every command applied, with its index and time (for replays). */
  readonly log: { cmd: Command; index: number; time: number }[] = [];

  constructor(m: Scheduler = new Scheduler()) {
    this.m = m;
  }

  do(cmd: Command, dt = 0): Effect[] {
    this.time += dt;
    this.index++;
    this.log.push({ cmd, index: this.index, time: this.time });
    return this.m.applyCommand(cmd, this.index, this.time);
  }

  tick(dt: number): Effect[] {
    return this.do({ type: 'tick' }, dt);
  }

  submit(id: string, spec: JobSpec, key: string | null = null, dt = 0): Effect[] {
    return this.do({ type: 'submit', id, key, spec }, dt);
  }

  hb(node: string, o: HbOptions = {}, dt = 0): Effect[] {
    const boot = o.boot ?? 1;
    const k = `${node}/${boot}`;
    const seq = o.seq ?? (this.seqs.get(k) ?? 0) + 1;
    this.seqs.set(k, seq);
    return this.do(
      {
        type: 'heartbeat',
        node,
        boot,
        slots: o.slots ?? 4,
        handlers: o.handlers ?? [],
        leaseMs: o.leaseMs ?? 5_000,
        seq,
        ...(o.labels === undefined ? {} : { labels: o.labels }),
        ...(o.ahead === undefined ? {} : { ahead: o.ahead }),
      },
      dt,
    );
  }

  claim(node: string, refs: [string, number][], boot = 1, dt = 0): Effect[] {
    return this.do({ type: 'claim', node, boot, tasks: refs.map(([job, task]) => ({ job, task })) }, dt);
  }

  finish(node: string, results: FinishItem[], o: { boot?: number; claimNext?: boolean } = {}, dt = 0): Effect[] {
    return this.do({ type: 'finish', node, boot: o.boot ?? 1, results, claimNext: o.claimNext ?? false }, dt);
  }

  /** Finishes (job, task) with its current attempt as the view shows it. */
  done(
    node: string,
    jobId: string,
    t: number,
    outcome: FinishOutcome = 'succeeded',
    o: { boot?: number; claimNext?: boolean; attempt?: number } = {},
    dt = 0,
  ): Effect[] {
    const attempt = o.attempt ?? this.m.launch({ job: jobId, task: t })?.attempt ?? 0;
    return this.finish(node, [result(jobId, t, attempt, outcome)], o, dt);
  }
}

export function result(
  jobId: string,
  t: number,
  attempt: number,
  outcome: FinishOutcome = 'succeeded',
  over: Partial<FinishItem> = {},
): FinishItem {
  return {
    job: jobId,
    task: t,
    attempt,
    outcome,
    exitCode: outcome === 'succeeded' ? 0 : 1,
    durationMs: 5,
    stdout: '',
    stderr: '',
    ...over,
  };
}

export function ofType<K extends Effect['type']>(effects: readonly Effect[], type: K): Extract<Effect, { type: K }>[] {
  return effects.filter((e): e is Extract<Effect, { type: K }> => e.type === type);
}

export function stateOf(m: Scheduler, jobId: string, name: string): string | undefined {
  return m.job(jobId)?.tasks[name]?.state;
}

/** A schedule every `everyMs` in UTC, policies allow and all, running a one-task DAG. */
export function every(name: string, everyMs: number, over: Partial<ScheduleSpec> = {}): ScheduleSpec {
  return {
    name,
    cadence: { kind: 'every', everyMs },
    timezone: 'UTC',
    overlap: 'allow',
    catchup: 'all',
    paused: false,
    params: {},
    dag: job([task('a')]),
    ...over,
  };
}
