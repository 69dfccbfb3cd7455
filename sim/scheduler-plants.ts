// Deliberately broken schedulers, to show that the checkers catch what they claim to
// (`npm run sim -- --workload scheduler --plant NAME`, and test/sim-scheduler.test.ts). Each is the
// real Scheduler with one rule bent, in a subclass, so the real machine is never touched. Most
// bend a command on its way in (public API only); two replace a private step of the machine, and
// name the internals they rely on.
import type { SchedulerFactory } from '../src/node/scheduler-host.js';
import type { Job } from '../src/scheduler/job.js';
import type { ApplyContext } from '../src/scheduler/lifecycle.js';
import { Scheduler } from '../src/scheduler/machine.js';
import { decodeSnapshot } from '../src/scheduler/snapshot-codec.js';
import type { NodeId } from '../src/raft/types.js';
import type { FireItem, JobOrigin } from '../src/scheduler/schedule-types.js';
import { nextDue, runJobId, type ScheduleJobs, type ScheduleRec } from '../src/scheduler/schedules.js';
import type { SchedulerState } from '../src/scheduler/state.js';
import type { Command, Effect, Ms, TaskSpec } from '../src/scheduler/types.js';

/** The steps of the machine's Lifecycle (lifecycle.ts) that two plants replace, some of them private. */
interface Life {
  startRunning(cx: ApplyContext, node: unknown, job: Job, task: number, spec: number, ts: TaskSpec): void;
  readySpec(cx: ApplyContext, job: Job, spec: number): void;
  skipSpec(
    cx: ApplyContext,
    job: Job,
    spec: number,
    verdict: 'skip' | 'skip-failed',
    hint: number,
  ): { outcome: 'failed' | 'skipped'; n: number; task: number };
  keepEnded(cx: ApplyContext, job: Job, task: number, end: number, exitCode: number | null, signal: string | null): void;
  rerun(cx: ApplyContext, job: Job, marked: Uint8Array, count: number): void;
}

/** Their parameter counts: a step whose signature changed fails the plant as a missing one does. */
const LIFE_STEPS = { startRunning: 6, readySpec: 3, skipSpec: 5, keepEnded: 6, rerun: 4 } as const;

/**
 * Bends each command before the real machine applies it. With `anyProposer` the machine also
 * forgets who proposed the entry, so a command may speak for any node.
 */
function bending(bend: (machine: Scheduler, cmd: Command) => Command, anyProposer = false): typeof Scheduler {
  return class extends Scheduler {
    override applyCommand(cmd: Command, index: number, time: Ms, proposer?: NodeId): Effect[] {
      return super.applyCommand(bend(this, cmd), index, time, anyProposer ? undefined : proposer);
    }
  };
}

/**
 * Replaces steps of the machine's (private) Lifecycle, on each instance. Fails loudly when the
 * machine no longer has them, rather than running the real machine under a plant's name.
 */
function patching(name: string, patch: (life: Life) => void): typeof Scheduler {
  return class extends Scheduler {
    constructor(...args: ConstructorParameters<typeof Scheduler>) {
      super(...args);
      const life = (this as unknown as { life?: Partial<Life> }).life;
      for (const [step, arity] of Object.entries(LIFE_STEPS) as [keyof Life, number][]) {
        const f = life?.[step];
        if (typeof f !== 'function')
          throw new Error(`plant ${name}: the Scheduler has no life.${step} any more (machine.ts changed): update sim/scheduler-plants.ts`);
        if (f.length !== arity)
          throw new Error(
            `plant ${name}: life.${step} takes ${f.length} parameters, not ${arity} (lifecycle.ts changed): update sim/scheduler-plants.ts`,
          );
      }
      patch(life as Life);
    }
  };
}

/** The private parts of the machine's Schedules (schedules.ts) the fire-undecided plant replaces and uses. */
interface SchedulesInside {
  fire(cx: ApplyContext, items: readonly FireItem[]): void;
  readonly s: SchedulerState;
  readonly jobs: ScheduleJobs;
}

/**
 * A fire that starts the run of each tick it names, at once, without the log's decision: no cursor
 * (a tick already decided fires again) and a job id of the proposal's own (the entry's index), not
 * the one derived from schedule and tick. Every node proposes every tick, so ticks fire twice.
 */
function fireUndecided(): typeof Scheduler {
  return class extends Scheduler {
    constructor(...args: ConstructorParameters<typeof Scheduler>) {
      super(...args);
      const sched = (this as unknown as { sched?: Partial<SchedulesInside> }).sched;
      if (typeof sched?.fire !== 'function' || sched.fire.length !== 2 || sched.s === undefined || sched.jobs === undefined) {
        throw new Error(
          'plant fire-undecided: the Scheduler has no sched.fire(cx, items), sched.s or sched.jobs any more (schedules.ts changed): update sim/scheduler-plants.ts',
        );
      }
      const { s, jobs } = sched as SchedulesInside;
      (sched as SchedulesInside).fire = (cx, items) => {
        for (const { schedule, tick } of items) {
          const rec: ScheduleRec | undefined = s.schedules.get(schedule);
          if (rec === undefined || rec.spec.paused || tick > cx.now || tick <= rec.createdAt) continue;
          const origin: JobOrigin = { schedule, tick, triggered: false };
          const job = jobs.start(cx, runJobId(schedule, tick, cx.index), rec.runSpec, origin);
          if (typeof job === 'string') continue;
          rec.fired++;
          rec.decidedUntil = Math.max(rec.decidedUntil, tick);
          rec.nextAt = nextDue(rec);
          cx.out.push({ type: 'schedule-tick', schedule, tick, outcome: 'fired', job: job.id, at: cx.now, count: 1, lastTick: tick });
        }
      };
    }
  };
}

/** The machine with one of its placement and limit rules (Scheduler's protected refusals, machine.ts) never refusing. */
function withoutRefusal(rule: 'labelRefusal' | 'poolRefusal' | 'concurrencyRefusal'): typeof Scheduler {
  return class extends Scheduler {
    protected override labelRefusal(...args: Parameters<Scheduler['labelRefusal']>): string | null {
      return rule === 'labelRefusal' ? null : super.labelRefusal(...args);
    }
    protected override poolRefusal(...args: Parameters<Scheduler['poolRefusal']>): string | null {
      return rule === 'poolRefusal' ? null : super.poolRefusal(...args);
    }
    protected override concurrencyRefusal(...args: Parameters<Scheduler['concurrencyRefusal']>): string | null {
      return rule === 'concurrencyRefusal' ? null : super.concurrencyRefusal(...args);
    }
  };
}

const PLANTED: Readonly<Record<string, { readonly what: string; readonly make: () => typeof Scheduler }>> = {
  'fire-undecided': {
    what: "a fire starts the run of each tick it names without the log's decision (no cursor, a job id of its own): each node's proposal of a tick starts one",
    make: fireUndecided,
  },
  'stale-finish': {
    what: 'a finish is accepted whatever attempt it names (the attempt half of the fencing is gone; the holder check stays)',
    make: () =>
      bending((m, cmd) =>
        cmd.type !== 'finish' ? cmd : { ...cmd, results: cmd.results.map((r) => ({ ...r, attempt: m.launch(r)?.attempt ?? r.attempt })) },
      ),
  },
  'foreign-finish': {
    what: 'a finish is accepted from any node, for any attempt (no fencing at all)',
    make: () =>
      bending((m, cmd) => {
        if (cmd.type !== 'finish' || cmd.results.length !== 1) return cmd;
        const r = cmd.results[0] as (typeof cmd.results)[number];
        const running = m.launch(r);
        const holder = running === undefined ? null : (m.job(r.job)?.tasks[running.name]?.node ?? null);
        const node = holder === null ? undefined : m.node(holder);
        if (running === undefined || node === undefined) return cmd;
        return { ...cmd, node: node.id, boot: node.boot, claimNext: false, results: [{ ...r, attempt: running.attempt }] };
      }, true),
  },
  'any-proposer': {
    what: 'the machine forgets who proposed an entry: a claim, heartbeat or finish may speak for any node',
    make: () => bending((_m, cmd) => cmd, true),
  },
  'short-lease': {
    what: 'the scheduler keeps a lease for a quarter of the time the node asked for (leases expire while their holders still run)',
    make: () => bending((_m, cmd) => (cmd.type === 'heartbeat' ? { ...cmd, leaseMs: Math.floor(cmd.leaseMs / 4) } : cmd)),
  },
  'no-retries': {
    what: "a submitted job's tasks lose their retries (the first failure fails the task)",
    make: () =>
      bending((_m, cmd) =>
        cmd.type === 'submit' || cmd.type === 'submit-part'
          ? { ...cmd, spec: { ...cmd.spec, tasks: cmd.spec.tasks.map((t) => ({ ...t, retries: 0 })) } }
          : cmd,
      ),
  },
  'ready-early': {
    what: "a task's dependents become ready as soon as it starts running, when it was the last dependency they waited for",
    make: () =>
      patching('ready-early', (life) => {
        const start = life.startRunning.bind(life);
        life.startRunning = (cx, node, job, task, spec, ts) => {
          start(cx, node, job, task, spec, ts);
          const end = job.dependentOffsets[spec + 1] as number;
          for (let k = job.dependentOffsets[spec] as number; k < end; k++) {
            const d = job.dependentTargets[k] as number;
            if (!job.undecided(d) || job.upSucceeded[d] !== (job.upTotal[d] as number) - 1) continue;
            life.readySpec(cx, job, d);
          }
        };
      }),
  },
  'no-skip': {
    what: 'a task whose trigger rule can no longer hold is never skipped (it waits forever)',
    make: () =>
      patching('no-skip', (life) => {
        life.skipSpec = (_cx, job, spec) => ({ outcome: 'skipped', n: 0, task: job.specStart[spec] as number });
      }),
  },
  'forget-attempts': {
    what: "an attempt that ends without success is not kept in the task's attempt history",
    make: () =>
      patching('forget-attempts', (life) => {
        life.keepEnded = () => undefined;
      }),
  },
  'rerun-fresh': {
    what: 'a re-run starts its tasks afresh: their attempt numbers back to 0 and their earlier attempts forgotten',
    make: () =>
      patching('rerun-fresh', (life) => {
        const rerun = life.rerun.bind(life);
        life.rerun = (cx, job, marked, count) => {
          for (let t = 0; t < job.size; t++) {
            if (marked[t] !== 1) continue;
            job.attempt[t] = 0;
            job.history.delete(t);
          }
          rerun(cx, job, marked, count);
        };
      }),
  },
  'batch-outputs': {
    what: "a finish carrying several results keeps only the first one's output (the others' dependents get none)",
    make: () =>
      bending((_m, cmd) =>
        cmd.type !== 'finish' || cmd.results.length < 2
          ? cmd
          : { ...cmd, results: cmd.results.map((r, i) => (i === 0 ? r : { ...r, output: undefined })) },
      ),
  },
  'trigger-all-done': {
    what: "every task's trigger rule is read as all_done (a task runs once its upstream tasks ended, however they ended)",
    make: () =>
      bending((_m, cmd) =>
        cmd.type === 'submit' || cmd.type === 'submit-part'
          ? { ...cmd, spec: { ...cmd.spec, tasks: cmd.spec.tasks.map((t) => ({ ...t, trigger: 'all_done' as const })) } }
          : cmd,
      ),
  },
  'pool-overflow': {
    what: "a claim is accepted whatever its pool's free slots (a missing pool included): the nodes' claim policies each see room, together they go past it",
    make: () => withoutRefusal('poolRefusal'),
  },
  'concurrency-overflow': {
    what: "a claim is accepted whatever its job's concurrency allows",
    make: () => withoutRefusal('concurrencyRefusal'),
  },
  'ignore-labels': {
    what: "a claim is accepted from a node that lacks the task's on: labels (claimNext takes such dependents too)",
    make: () => withoutRefusal('labelRefusal'),
  },
};

export const PLANTS: readonly string[] = Object.keys(PLANTED);

export function describePlant(name: string): string {
  return PLANTED[name]?.what ?? `unknown plant '${name}'`;
}

export function plantedScheduler(name: string): SchedulerFactory {
  const p = PLANTED[name];
  if (!p) throw new Error(`unknown plant '${name}' (known: ${PLANTS.join(', ')})`);
  const C = p.make();
  return { create: () => new C(), restore: (bytes) => new C(decodeSnapshot(bytes)) };
}
