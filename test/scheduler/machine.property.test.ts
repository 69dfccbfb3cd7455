// Random DAGs and random command sequences (submits, heartbeats with restarts and stale seqs,
// claims of ready and not-ready tasks, finishes with current and stale attempts, ticks, cancels,
// re-runs of ended jobs (their failed part, or a spec or shard and what follows), undecodable entries) against the scheduler state machine:
// (1) a snapshot taken at any point and the rest of the log replayed gives the same effects, the
//     same hash and the same views as the machine that applied everything;
// (2) invariants after every entry: a task runs only when all its deps succeeded; attempts only
//     grow; an attempt leaves `running` at most once (so at most one finish is accepted for it);
//     counts, node loads, held tasks and the ready queue agree with the task states.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { known } from '../../src/invariant.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import { taskName } from '../../src/scheduler/task-names.js';
import type { Command, Effect, FinishOutcome, JobSpec, ReadyTask, TaskSpec } from '../../src/scheduler/types.js';
import { result, task } from './machine-helpers.js';

const NODES = ['n0', 'n1', 'n2'];
const HANDLERS = ['gpu', 'py'];

interface SpecDesc {
  depMask: number;
  shards: number | null;
  retries: number;
  backoffMs: number;
  timeoutMs: number;
  priority: number;
  slots: number;
  handler: string | null;
}

interface DagDesc {
  specs: SpecDesc[];
  retentionMs: number;
  broken: boolean;
}

type Op =
  | { k: 'submit'; dag: DagDesc; key: number | null; reuseId: boolean; dt: number }
  | {
      k: 'hb';
      node: number;
      restart: boolean;
      oldBoot: boolean;
      slots: number;
      handlers: string[];
      leaseMs: number;
      seqDelta: number;
      dt: number;
    }
  | { k: 'claim'; node: number; picks: number[]; stray: boolean; staleBoot: boolean; dt: number }
  | {
      k: 'finish';
      node: number;
      picks: number[];
      outcome: FinishOutcome;
      attemptDelta: number;
      claimNext: boolean;
      foreign: boolean;
      dt: number;
    }
  | { k: 'tick'; dt: number }
  | { k: 'cancel'; sel: number; dt: number }
  | { k: 'rerun'; sel: number; task: number; failed: boolean; downstream: boolean; dt: number }
  | { k: 'garbage'; dt: number };

const dtArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 150 }) },
  { weight: 2, arbitrary: fc.integer({ min: 150, max: 3000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 3000, max: 40_000 }) },
);

const specArb: fc.Arbitrary<SpecDesc> = fc.record({
  depMask: fc.integer({ min: 0, max: 31 }),
  shards: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 3 })),
  retries: fc.integer({ min: 0, max: 2 }),
  backoffMs: fc.constantFrom(0, 50, 500),
  timeoutMs: fc.constantFrom(100, 1000, 5000),
  priority: fc.integer({ min: -1, max: 1 }),
  slots: fc.integer({ min: 1, max: 2 }),
  handler: fc.constantFrom(null, null, 'gpu', 'py'),
});

const dagArb: fc.Arbitrary<DagDesc> = fc.record({
  specs: fc.array(specArb, { minLength: 1, maxLength: 5 }),
  retentionMs: fc.constantFrom(0, 2000, 3_600_000),
  broken: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('submit' as const),
      dag: dagArb,
      key: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 2 })),
      reuseId: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      dt: dtArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('hb' as const),
      node: fc.integer({ min: 0, max: 2 }),
      restart: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      oldBoot: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      slots: fc.integer({ min: 1, max: 4 }),
      handlers: fc.subarray(HANDLERS),
      leaseMs: fc.constantFrom(300, 1000, 5000),
      seqDelta: fc.constantFrom(1, 1, 1, 0, -1),
      dt: dtArb,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('claim' as const),
      node: fc.integer({ min: 0, max: 2 }),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
      stray: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      staleBoot: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      dt: dtArb,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('finish' as const),
      node: fc.integer({ min: 0, max: 2 }),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      outcome: fc.constantFrom<FinishOutcome>('succeeded', 'succeeded', 'succeeded', 'failed', 'timeout'),
      attemptDelta: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, -1, 1),
      claimNext: fc.boolean(),
      foreign: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      dt: dtArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('tick' as const), dt: dtArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), sel: fc.nat(), dt: dtArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('rerun' as const),
      sel: fc.nat(),
      task: fc.nat(),
      failed: fc.boolean(),
      downstream: fc.boolean(),
      dt: dtArb,
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('garbage' as const), dt: dtArb }) },
);

function toSpec(d: DagDesc): JobSpec {
  const tasks: TaskSpec[] = d.specs.map((s, i) => {
    const deps: string[] = [];
    for (let j = 0; j < i; j++) if (s.depMask & (1 << j)) deps.push(`s${j}`);
    return task(`s${i}`, {
      deps,
      shards: s.shards,
      retries: s.retries,
      backoffMs: s.backoffMs,
      timeoutMs: s.timeoutMs,
      priority: s.priority,
      // A broken DAG (slots 0) must be refused on apply, the same way everywhere.
      slots: d.broken && i === 0 ? 0 : s.slots,
      exec: s.handler === null ? { kind: 'run', command: 'true' } : { kind: 'handler', name: s.handler, args: null },
    });
  });
  return { name: 'prop', retentionMs: d.retentionMs, tasks };
}

type Entry = { readonly index: number; readonly time: number } & ({ readonly cmd: Command } | { readonly bytes: Uint8Array });

function applyEntry(m: Scheduler, e: Entry): Effect[] {
  return 'cmd' in e ? m.applyCommand(e.cmd, e.index, e.time) : m.apply(e.bytes, e.index, e.time);
}

/** Turns abstract ops into concrete entries against the live machine `m`, which applies each. */
class Runner {
  readonly m = new Scheduler();
  readonly entries: Entry[] = [];
  readonly effects: Effect[][] = [];
  /** The spec of each job as submitted (for the dependency invariant). */
  readonly specs = new Map<string, JobSpec>();
  private index = 0;
  private time = 10_000;
  private jobCounter = 0;
  private bootCounter = 100;
  private readonly boots = NODES.map(() => 1);
  private readonly retired: number[][] = NODES.map(() => []);
  private readonly seqs = NODES.map(() => 0);
  // Invariant trackers.
  private readonly lastAttempt = new Map<string, number>();
  private readonly leftRunning = new Set<string>();

  step(op: Op): void {
    this.time += op.dt;
    const entry = this.entry(op);
    this.entries.push(entry);
    const fx = applyEntry(this.m, entry);
    this.effects.push(fx);
    this.check(fx);
  }

  private entry(op: Op): Entry {
    const at = { index: ++this.index, time: this.time };
    const m = this.m;
    switch (op.k) {
      case 'submit': {
        const jobs = m.jobs();
        const id = op.reuseId && jobs.length > 0 ? (jobs[0]?.id as string) : `j${++this.jobCounter}`;
        const spec = toSpec(op.dag);
        return { ...at, cmd: { type: 'submit', id, key: op.key === null ? null : `key${op.key}`, spec } };
      }
      case 'hb': {
        const n = op.node;
        if (op.restart) {
          this.retired[n]?.push(known(this.boots[n], 'a boot per node'));
          this.boots[n] = ++this.bootCounter;
          this.seqs[n] = 0;
        }
        const old = this.retired[n] ?? [];
        const boot =
          op.oldBoot && !op.restart && old.length > 0 ? known(old[0], 'checked non-empty') : known(this.boots[n], 'a boot per node');
        const seq = Math.max(0, known(this.seqs[n], 'a seq per node') + op.seqDelta);
        if (boot === this.boots[n]) this.seqs[n] = Math.max(known(this.seqs[n], 'a seq per node'), seq);
        return {
          ...at,
          cmd: { type: 'heartbeat', node: NODES[n] as string, boot, slots: op.slots, handlers: op.handlers, leaseMs: op.leaseMs, seq },
        };
      }
      case 'claim': {
        const ready: ReadyTask[] = [];
        for (const r of m.ready()) {
          ready.push(r);
          if (ready.length >= 40) break;
        }
        const tasks = op.picks.map((p) => {
          if (op.stray || ready.length === 0) {
            const jobs = m.jobs();
            const j = jobs[p % Math.max(1, jobs.length)];
            return { job: j?.id ?? 'nope', task: p % 7 };
          }
          const r = ready[p % ready.length] as ReadyTask;
          return { job: r.job, task: r.task };
        });
        const n = op.node;
        const current = known(this.boots[n], 'a boot per node');
        const boot = op.staleBoot ? current + 1_000 : current;
        return { ...at, cmd: { type: 'claim', node: NODES[n] as string, boot, tasks } };
      }
      case 'finish': {
        const n = op.node;
        const holder = op.foreign ? (NODES[(n + 1) % NODES.length] as string) : (NODES[n] as string);
        const held = m.held(holder);
        const results =
          held.length === 0
            ? []
            : op.picks.map((p) => {
                const l = held[p % held.length] as { job: string; task: number; attempt: number };
                return result(l.job, l.task, Math.max(0, l.attempt + op.attemptDelta), op.outcome, {
                  stdout: p % 3 === 0 ? `out${p}` : '',
                });
              });
        return {
          ...at,
          cmd: {
            type: 'finish',
            node: known(NODES[n], 'a node index'),
            boot: known(this.boots[n], 'a boot per node'),
            results,
            claimNext: op.claimNext,
          },
        };
      }
      case 'tick':
        return { ...at, cmd: { type: 'tick' } };
      case 'cancel': {
        const jobs = m.jobs();
        const id = jobs.length === 0 || op.sel % 3 !== 0 ? 'unknown' : (jobs[op.sel % jobs.length]?.id as string);
        return { ...at, cmd: { type: 'cancel', job: id } };
      }
      case 'rerun': {
        // Mostly an ended job; its failed part, or one of its tasks (a spec's name, or a shard's).
        const ended = m.jobs().filter((j) => j.state !== 'running');
        const job = ended[op.sel % Math.max(1, ended.length)] ?? m.jobs()[0];
        if (job === undefined) return { ...at, cmd: { type: 'tick' } };
        const names = Object.keys(m.job(job.id)?.tasks ?? {});
        const specs = (m.jobSpec(job.id)?.tasks ?? []).map((t) => t.name);
        const all = [...names, ...specs];
        const tasks = op.failed ? [] : [all[op.task % all.length] as string];
        return { ...at, cmd: { type: 'rerun', job: job.id, failed: op.failed, tasks, downstream: !op.failed && op.downstream } };
      }
      case 'garbage':
        return { ...at, bytes: new Uint8Array([0xee, op.dt & 0xff]) };
    }
  }

  private check(fx: readonly Effect[]): void {
    const m = this.m;
    for (const e of fx) {
      if (e.type === 'submitted' && !e.existing) {
        const entry = this.entries[this.entries.length - 1] as { cmd: Extract<Command, { type: 'submit' }> };
        this.specs.set(e.job, entry.cmd.spec);
      }
      if (e.type === 'removed') {
        for (const k of [...this.lastAttempt.keys()]) if (k.startsWith(`${e.job}/`)) this.lastAttempt.delete(k);
        for (const k of [...this.leftRunning]) if (k.startsWith(`${e.job}/`)) this.leftRunning.delete(k);
        this.specs.delete(e.job);
      }
      if (e.type === 'tasks') expect(e.to).not.toBe('running');
      if (e.type !== 'task') continue;
      const key = `${e.job}/${e.task}`;
      if (e.to === 'running') {
        // Attempts only grow, by one per accepted claim.
        expect(e.attempt).toBe((this.lastAttempt.get(key) ?? 0) + 1);
        this.lastAttempt.set(key, e.attempt);
      }
      if (e.from === 'running') {
        // An attempt ends once: at most one accepted finish (or expiry, timeout, cancel) per attempt.
        const k = `${key}/${e.attempt}`;
        expect(this.leftRunning.has(k)).toBe(false);
        this.leftRunning.add(k);
      }
    }

    const running = new Map<string, { n: number; slots: number }>();
    let ready = 0;
    for (const summary of m.jobs()) {
      const view = m.job(summary.id);
      const spec = this.specs.get(summary.id);
      expect(view).toBeDefined();
      expect(spec).toBeDefined();
      if (!view || !spec) continue;
      const tally = { waiting: 0, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
      const byName = new Map(spec.tasks.map((t) => [t.name, t]));
      for (const ts of spec.tasks) {
        for (let i = 0; i < (ts.shards ?? 1); i++) {
          const tv = view.tasks[taskName(ts.name, ts.shards === null ? null : i)];
          expect(tv).toBeDefined();
          if (!tv) continue;
          tally[tv.state]++;
          if (tv.state === 'running' || tv.state === 'succeeded') {
            // Runs (or ran) only once every task of every dep succeeded.
            for (const d of ts.deps) {
              const ds = byName.get(d) as TaskSpec;
              for (let k = 0; k < (ds.shards ?? 1); k++)
                expect(view.tasks[taskName(d, ds.shards === null ? null : k)]?.state).toBe('succeeded');
            }
          }
          if (tv.state === 'running') {
            const r = running.get(tv.node as string) ?? { n: 0, slots: 0 };
            r.n++;
            r.slots += ts.slots;
            running.set(tv.node as string, r);
          }
        }
      }
      expect(view.counts).toEqual(tally);
      expect(summary.counts).toEqual(tally);
      ready += tally.ready;
      const total = Object.values(tally).reduce((a, b) => a + b, 0);
      const final = tally.succeeded + tally.failed + tally.skipped;
      if (view.state === 'running') expect(final).toBeLessThan(total);
      else expect(final).toBe(total);
      if (view.state === 'succeeded') expect(tally.succeeded).toBe(total);
    }
    for (const n of m.nodes()) {
      const r = running.get(n.id) ?? { n: 0, slots: 0 };
      expect(n.running).toBe(r.n);
      expect(n.used).toBe(r.slots);
      const held = m.held(n.id);
      expect(held).toHaveLength(r.n);
      for (const l of held) expect(m.launch(l)).toEqual(l);
    }
    expect(m.readyCount()).toBe(ready);
    const list = [...m.ready()];
    expect(list).toHaveLength(ready);
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1] as (typeof list)[number];
      const b = list[i] as (typeof list)[number];
      expect(a.priority > b.priority || (a.priority === b.priority && a.readyAt <= b.readyAt)).toBe(true);
    }
    const deadline = m.nextDeadline();
    // Timers due by now have fired; one armed by this very entry (retention 0) may be due at once.
    if (deadline !== null) expect(deadline).toBeGreaterThanOrEqual(m.now);
  }
}

function views(m: Scheduler): unknown {
  return {
    now: m.now,
    stats: { ...m.stats },
    jobs: m.jobs(),
    job: m.jobs().map((j) => m.job(j.id)),
    nodes: m.nodes(),
    held: m.nodes().map((n) => m.held(n.id)),
    ready: [...m.ready()],
    next: m.nextDeadline(),
  };
}

/** Every node heartbeats and a job is submitted first (so claims have something to act on), then anything goes. */
const opsArb: fc.Arbitrary<Op[]> = fc
  .tuple(
    fc.tuple(...NODES.map(() => fc.subarray(HANDLERS))),
    fc.array(dagArb, { minLength: 1, maxLength: 2 }),
    fc.array(opArb, { minLength: 5, maxLength: 80 }),
  )
  .map(([handlers, dags, rest]) => [
    ...handlers.map((h, node): Op => ({
      k: 'hb',
      node,
      restart: false,
      oldBoot: false,
      slots: 3,
      handlers: h,
      leaseMs: 5000,
      seqDelta: 1,
      dt: 0,
    })),
    ...dags.map((dag): Op => ({ k: 'submit', dag: { ...dag, broken: false }, key: null, reuseId: false, dt: 0 })),
    ...rest,
  ]);

describe('scheduler state machine: properties', () => {
  it('keeps its invariants under any command sequence', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const r = new Runner();
        for (const op of ops) r.step(op);
      }),
      { numRuns: 300 },
    );
  });

  it('a snapshot at any point plus the rest of the log equals the whole log', () => {
    fc.assert(
      fc.property(opsArb, fc.nat(), (ops, cut) => {
        const a = new Runner();
        for (const op of ops) a.step(op);
        const k = cut % (a.entries.length + 1);
        const b = new Scheduler();
        for (const e of a.entries.slice(0, k)) applyEntry(b, e);
        const bytes = b.encode();
        const c = Scheduler.restore(bytes);
        expect(c.encode()).toEqual(bytes);
        expect(views(c)).toEqual(views(b));
        a.entries.slice(k).forEach((e, i) => {
          expect(applyEntry(c, e)).toEqual(a.effects[k + i]);
        });
        expect(c.hash()).toBe(a.m.hash());
        expect(views(c)).toEqual(views(a.m));
      }),
      { numRuns: 300 },
    );
  });

  it('a snapshot encoded in slices while the rest of the log applies is the snapshot of where it started', () => {
    fc.assert(
      fc.property(opsArb, fc.nat(), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), (ops, cut, budget, shift) => {
        const a = new Runner();
        for (const op of ops) a.step(op);
        const k = cut % (a.entries.length + 1);
        const b = new Scheduler();
        for (const e of a.entries.slice(0, k)) applyEntry(b, e);
        const want = b.encode();
        // Blocks of 1 to 4 tasks, so that changes land on both sides of the encoder's position.
        const enc = b.startEncode(shift);
        let bytes: Uint8Array | null = null;
        for (const e of a.entries.slice(k)) {
          applyEntry(b, e);
          bytes ??= enc.step(budget);
        }
        bytes ??= enc.step(Infinity);
        expect(bytes).toEqual(want);
        // Done: the jobs no longer keep copies, and the machine went on as if nothing happened.
        expect(b.hash()).toBe(a.m.hash());
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same entries give the same state and effects', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const a = new Runner();
        for (const op of ops) a.step(op);
        const b = new Scheduler();
        a.entries.forEach((e, i) => expect(applyEntry(b, e)).toEqual(a.effects[i]));
        expect(b.hash()).toBe(a.m.hash());
      }),
      { numRuns: 100 },
    );
  });
});
