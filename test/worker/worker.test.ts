// The worker against a fake clock, a fake executor and a hand-written fake SchedulerView (not the
// real state machine): the lease (heartbeats, renewal, giving it up a margin before it could run
// out), claims (free slots, handlers, batching, retries), launches (only what this boot holds, at
// the attempt the view gives), stops, batched and re-sent finishes, and load(). Deterministic:
// nothing here waits on real time.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/raft/types.js';
import { emptyStats } from '../../src/scheduler/state.js';
import type {
  Command,
  Effect,
  JobSummary,
  JobView,
  Ms,
  NodeView,
  PoolView,
  ReadyTask,
  SchedulerStats,
  SchedulerView,
  TaskEvent,
  TaskLaunch,
  TaskRef,
} from '../../src/scheduler/types.js';
import type { Clock, ExecResult, Execution, Executor, PeerLoad, Timer } from '../../src/worker/types.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';

// --- fakes ---------------------------------------------------------------------------------------

/** Timers on a virtual time line; ties fire in the order they were set. */
class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: { at: Ms; seq: number; fn: () => void; live: boolean }[] = [];

  now(): Ms {
    return this.t;
  }

  after(ms: Ms, fn: () => void): Timer {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }

  /** Runs every timer due up to now + ms (including the ones they set), then sets the time to now + ms. */
  advance(ms: Ms): void {
    const end = this.t + ms;
    for (let guard = 0; ; guard++) {
      if (guard > 100_000) throw new Error('runaway timers');
      this.timers = this.timers.filter((x) => x.live);
      let next: (typeof this.timers)[number] | undefined;
      for (const x of this.timers)
        if (x.at <= end && (next === undefined || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      if (next === undefined) break;
      next.live = false;
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }

  /** Advances to absolute time `t`. */
  to(t: Ms): void {
    if (t < this.t) throw new Error(`time ${t} is in the past (${this.t})`);
    this.advance(t - this.t);
  }
}

interface FakeRun {
  readonly launch: TaskLaunch;
  readonly stops: string[];
  /** The graceMs each stop came with (undefined: the executor's own). */
  readonly graces: (Ms | undefined)[];
  done: boolean;
  finish(result?: Partial<ExecResult>): void;
}

class FakeExecutor implements Executor {
  readonly runs: FakeRun[] = [];

  constructor(readonly handlers: readonly string[] = ['noop']) {}

  start(launch: TaskLaunch, onDone: (result: ExecResult) => void): Execution {
    const run: FakeRun = {
      launch,
      stops: [],
      graces: [],
      done: false,
      finish: (over = {}) => {
        if (run.done) throw new Error(`${launch.name} attempt ${launch.attempt} finished twice`);
        run.done = true;
        onDone({ outcome: 'succeeded', exitCode: 0, durationMs: 5, stdout: 'out', stderr: '', ...over });
      },
    };
    this.runs.push(run);
    return {
      stop: (reason, graceMs) => {
        run.stops.push(reason);
        run.graces.push(graceMs);
      },
    };
  }

  live(): FakeRun[] {
    return this.runs.filter((r) => !r.done);
  }

  run(name: string, attempt = 1): FakeRun {
    const r = this.runs.find((x) => x.launch.name === name && x.launch.attempt === attempt);
    if (r === undefined) throw new Error(`${name} attempt ${attempt} was never started`);
    return r;
  }
}

interface Held {
  launch: TaskLaunch;
  node: NodeId;
}

const key = (ref: TaskRef): string => `${ref.job}/${ref.task}`;

/**
 * A hand-written SchedulerView: nodes, a ready list and running tasks, with just enough of the
 * rules to apply a heartbeat, a claim and a finish the way docs/architecture.md §7 says (first claim wins,
 * attempt + 1 per accepted claim, fence = the entry's index).
 */
class FakeView implements SchedulerView {
  now: Ms = 0;
  readonly stats: SchedulerStats = emptyStats();
  readonly nodeViews = new Map<NodeId, NodeView>();
  readyTasks: ReadyTask[] = [];
  readonly running = new Map<string, Held>();
  readonly attempts = new Map<string, number>();
  /** Tasks given from now on say other tasks depend on them (TaskLaunch.hasDependents). */
  withDependents = false;
  private index = 100;

  job(): JobView | undefined {
    return undefined;
  }
  jobs(): JobSummary[] {
    return [];
  }
  jobSummary(): undefined {
    return undefined;
  }
  jobDetail(): undefined {
    return undefined;
  }
  jobProgress(): undefined {
    return undefined;
  }
  task(): undefined {
    return undefined;
  }
  taskPage(): undefined {
    return undefined;
  }
  specPage(): undefined {
    return undefined;
  }
  jobSpec(): undefined {
    return undefined;
  }
  jobWithKey(): undefined {
    return undefined;
  }
  *ready(): Iterable<ReadyTask> {
    yield* this.readyTasks;
  }
  readyCount(): number {
    return this.readyTasks.length;
  }
  node(id: NodeId): NodeView | undefined {
    return this.nodeViews.get(id);
  }
  nodes(): NodeView[] {
    return [...this.nodeViews.values()];
  }
  held(node: NodeId): TaskLaunch[] {
    return [...this.running.values()].filter((h) => h.node === node).map((h) => h.launch);
  }
  launch(ref: TaskRef): TaskLaunch | undefined {
    return this.running.get(key(ref))?.launch;
  }
  /** What inputs(ref) answers, by task number (the state machine's side is test/scheduler/outputs.test.ts). */
  readonly given = new Map<number, Record<string, string>>();
  inputs(ref: TaskRef): Record<string, string> {
    return this.given.get(ref.task) ?? {};
  }
  nextDeadline(): Ms | null {
    return null;
  }
  schedules(): [] {
    return [];
  }
  schedule(): undefined {
    return undefined;
  }
  scheduleTicks(): [] {
    return [];
  }
  /** Pools by name: what pool(name) answers (the state machine's side is test/scheduler/placement.test.ts). */
  readonly poolViews = new Map<string, PoolView>();
  pools(): PoolView[] {
    return [...this.poolViews.values()];
  }
  pool(name: string): PoolView | undefined {
    return this.poolViews.get(name);
  }
  /** Running tasks per job: what jobRunning(job) answers. */
  readonly runningPerJob = new Map<string, number>();
  jobRunning(id: string): number {
    return this.runningPerJob.get(id) ?? 0;
  }

  addReady(task: number, over: Partial<ReadyTask> = {}): ReadyTask {
    const t: ReadyTask = { job: 'job-1', task, priority: 0, readyAt: this.now, slots: 1, handler: null, ...over };
    this.readyTasks.push(t);
    return t;
  }

  heartbeat(cmd: Extract<Command, { type: 'heartbeat' }>, at: Ms): void {
    this.now = Math.max(this.now, at);
    this.nodeViews.set(cmd.node, {
      id: cmd.node,
      boot: cmd.boot,
      slots: cmd.slots,
      ahead: cmd.ahead ?? 0,
      handlers: cmd.handlers,
      labels: cmd.labels ?? {},
      leaseMs: cmd.leaseMs,
      leaseUntil: at + cmd.leaseMs,
      heartbeatSeq: cmd.seq,
      used: 0,
      running: 0,
    });
  }

  /** Gives `ref` (ready) to `node` with the next attempt; the effect of that claim. */
  give(ref: TaskRef, node: NodeId): TaskEvent {
    const i = this.readyTasks.findIndex((t) => key(t) === key(ref));
    if (i < 0) throw new Error(`${key(ref)} is not ready`);
    const [ready] = this.readyTasks.splice(i, 1);
    const attempt = (this.attempts.get(key(ref)) ?? 0) + 1;
    this.attempts.set(key(ref), attempt);
    const fence = ++this.index;
    const exec =
      ready?.handler == null
        ? { kind: 'run' as const, command: `echo ${ref.task}` }
        : { kind: 'handler' as const, name: ready.handler, args: null };
    const launch: TaskLaunch = {
      job: ref.job,
      task: ref.task,
      jobName: 'fake',
      name: `t${ref.task}`,
      exec,
      attempt,
      fence,
      timeoutMs: 60_000,
      env: {},
      cwd: null,
      shard: null,
      shards: null,
      slots: ready?.slots ?? 1,
      hasDependents: this.withDependents,
    };
    this.running.set(key(ref), { launch, node });
    return taskEvent(ref, 'ready', 'running', node, attempt, fence);
  }

  /** Applies a claim command: ready tasks go to its node in order; the others are rejected silently. */
  applyClaim(cmd: Extract<Command, { type: 'claim' }>): Effect[] {
    const effects: Effect[] = [];
    if (this.nodeViews.get(cmd.node)?.boot !== cmd.boot) return [{ type: 'ignored', command: 'claim', reason: 'stale boot' }];
    for (const ref of cmd.tasks) if (this.readyTasks.some((t) => key(t) === key(ref))) effects.push(this.give(ref, cmd.node));
    return effects;
  }

  /** Applies a finish: results whose attempt and holder match end the task. */
  applyFinish(cmd: Extract<Command, { type: 'finish' }>): Effect[] {
    const effects: Effect[] = [];
    for (const r of cmd.results) {
      const held = this.running.get(key(r));
      if (held === undefined || held.node !== cmd.node || held.launch.attempt !== r.attempt) {
        effects.push({ type: 'ignored', command: 'finish', reason: 'stale' });
        continue;
      }
      this.running.delete(key(r));
      effects.push(taskEvent(r, 'running', r.outcome === 'succeeded' ? 'succeeded' : 'failed', cmd.node, r.attempt, held.launch.fence));
    }
    // Claims riding in the finish, after its results (slots are not modelled here).
    for (const ref of cmd.claims ?? []) {
      if (this.readyTasks.some((t) => key(t) === key(ref))) effects.push(this.give(ref, cmd.node));
      else effects.push({ type: 'ignored', command: 'claim', reason: 'not ready' });
    }
    return effects;
  }

  /** The task stops running (cancelled, lease expired): the stop effect for its holder. */
  revoke(ref: TaskRef, reason: string): Effect[] {
    const held = this.running.get(key(ref));
    if (held === undefined) throw new Error(`${key(ref)} is not running`);
    this.running.delete(key(ref));
    return [
      taskEvent(ref, 'running', 'skipped', held.node, held.launch.attempt, held.launch.fence),
      { type: 'stop', job: ref.job, task: ref.task, node: held.node, attempt: held.launch.attempt, reason },
    ];
  }
}

function taskEvent(
  ref: TaskRef,
  from: TaskEvent['from'],
  to: TaskEvent['to'],
  node: NodeId | null,
  attempt: number,
  fence: number | null,
): TaskEvent {
  return { type: 'task', job: ref.job, task: ref.task, name: `t${ref.task}`, from, to, node, attempt, fence, reason: null };
}

const SELF = 'node-a';
const BOOT = 7;
const LEASE = 5000;
const HEARTBEAT = 1000;

type Heartbeat = Extract<Command, { type: 'heartbeat' }>;
type Claim = Extract<Command, { type: 'claim' }>;
type Finish = Extract<Command, { type: 'finish' }>;

interface Harness {
  clock: FakeClock;
  view: FakeView;
  executor: FakeExecutor;
  worker: Worker;
  proposed: { at: Ms; command: Command }[];
  /** Heartbeats are applied the moment they are proposed (a healthy cluster) while this is true. */
  autoHeartbeat: boolean;
  /** What propose() answers. */
  accept: boolean;
  peers: PeerLoad[];
  heartbeats(): Heartbeat[];
  claims(): Claim[];
  finishes(): Finish[];
  /** Applies the latest claim command and hands its effects to the worker. */
  applyLastClaim(): Effect[];
  applyLastFinish(): Effect[];
  effects(effects: Effect[]): void;
}

function harness(over: Partial<WorkerOptions> = {}, handlers: readonly string[] = ['noop']): Harness {
  const clock = new FakeClock();
  const view = new FakeView();
  const executor = new FakeExecutor(handlers);
  const h: Harness = {
    clock,
    view,
    executor,
    worker: null as unknown as Worker,
    proposed: [],
    autoHeartbeat: true,
    accept: true,
    peers: [],
    heartbeats: () => h.proposed.filter((p) => p.command.type === 'heartbeat').map((p) => p.command as Heartbeat),
    claims: () => h.proposed.filter((p) => p.command.type === 'claim').map((p) => p.command as Claim),
    finishes: () => h.proposed.filter((p) => p.command.type === 'finish').map((p) => p.command as Finish),
    applyLastClaim: () => {
      const c = h.claims().at(-1);
      if (c === undefined) throw new Error('no claim proposed');
      const effects = view.applyClaim(c);
      h.effects(effects);
      return effects;
    },
    applyLastFinish: () => {
      const f = h.finishes().at(-1);
      if (f === undefined) throw new Error('no finish proposed');
      const effects = view.applyFinish(f);
      h.effects(effects);
      return effects;
    },
    effects: (effects) => {
      h.worker.onEffects(effects);
      clock.advance(0);
    },
  };
  h.worker = new Worker({
    self: SELF,
    boot: BOOT,
    slots: 3,
    leaseMs: LEASE,
    heartbeatMs: HEARTBEAT,
    stealAfterMs: 2000,
    view,
    executor,
    clock,
    propose: (command) => {
      h.proposed.push({ at: clock.now(), command });
      if (h.accept && h.autoHeartbeat && command.type === 'heartbeat') view.heartbeat(command, clock.now());
      return h.accept;
    },
    peers: () => h.peers,
    ...over,
  });
  return h;
}

/** A started worker whose first heartbeat has been applied (it holds its lease). */
function started(over: Partial<WorkerOptions> = {}, handlers?: readonly string[]): Harness {
  const h = harness(over, handlers);
  h.worker.start();
  h.clock.advance(0);
  return h;
}

const refs = (tasks: readonly TaskRef[]): number[] => tasks.map((t) => t.task);

// --- tests -----------------------------------------------------------------------------------------

describe('worker: heartbeats and the lease', () => {
  it('heartbeats at once and then every heartbeatMs, with seq counting up, and the node details', () => {
    const h = harness();
    h.worker.start();
    h.clock.advance(4500);
    const beats = h.proposed.filter((p) => p.command.type === 'heartbeat');
    expect(beats.map((p) => p.at)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(beats.map((p) => (p.command as Heartbeat).seq)).toEqual([1, 2, 3, 4, 5]);
    expect(h.heartbeats()[0]).toEqual({ type: 'heartbeat', node: SELF, boot: BOOT, slots: 3, handlers: ['noop'], leaseMs: LEASE, seq: 1 });
    expect(h.worker.stats.heartbeatsProposed).toBe(5);
  });

  it("carries the node's --labels in every heartbeat (none: left out)", () => {
    const h = harness({ labels: { gpu: 'a100', zone: 'eu' } });
    h.worker.start();
    h.clock.advance(1500);
    expect(h.heartbeats().map((b) => b.labels)).toEqual([
      { gpu: 'a100', zone: 'eu' },
      { gpu: 'a100', zone: 'eu' },
    ]);
  });

  it('keeps counting seq up when Raft refuses proposals, and claims nothing without a lease', () => {
    const h = harness();
    h.accept = false;
    h.view.addReady(0);
    h.worker.start();
    h.clock.advance(3000);
    expect(h.heartbeats().map((c) => c.seq)).toEqual([1, 2, 3, 4]);
    expect(h.worker.stats.proposalsRefused).toBe(4);
    expect(h.claims()).toEqual([]);
  });

  it('rejects a heartbeat period that leaves no room to renew the lease', () => {
    expect(() => harness({ heartbeatMs: 4000 })).toThrow(RangeError);
    expect(() => harness({ heartbeatMs: 0 })).toThrow(RangeError);
  });

  it('kills its running tasks at renewedAt + lease - lease/5 when heartbeats stop being applied (cut off from quorum)', () => {
    const h = started();
    h.view.addReady(0);
    h.view.addReady(1);
    h.effects([]);
    h.applyLastClaim();
    expect(h.executor.live().map((r) => r.launch.name)).toEqual(['t0', 't1']);
    h.clock.to(1000); // heartbeat seq 2 proposed at 1000 and applied: renewed as of 1000
    h.autoHeartbeat = false; // from now on nothing reaches the quorum
    h.clock.to(4999);
    expect(h.executor.runs.flatMap((r) => r.stops)).toEqual([]);
    expect(h.worker.stats.leaseLosses).toBe(0);
    h.clock.to(5000); // 1000 + 5000 - 1000
    expect(h.executor.runs.map((r) => r.stops)).toEqual([['lease lost'], ['lease lost']]);
    // With a grace period short enough that SIGKILL lands before the lease can run out (lease/5 later).
    expect(h.executor.runs.map((r) => r.graces)).toEqual([[500], [500]]);
    expect(h.worker.stats.leaseLosses).toBe(1);
    // The killed attempts report nothing, and nothing new is claimed while the lease is lost.
    h.executor.run('t0').finish({ outcome: 'failed', exitCode: null });
    h.executor.run('t1').finish({ outcome: 'failed', exitCode: null });
    h.view.addReady(2);
    h.effects([]);
    h.clock.to(8000);
    expect(h.finishes()).toEqual([]);
    expect(h.claims()).toHaveLength(1);
    expect(h.worker.load()).toMatchObject({ running: 0 });
  });

  it('a lease loss also hurries an attempt already stopping with the full grace period', () => {
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    h.applyLastClaim();
    h.effects(h.view.revoke({ job: 'job-1', task: 0 }, 'cancelled'));
    h.autoHeartbeat = false;
    h.clock.to(4000);
    expect(h.executor.run('t0').stops).toEqual(['cancelled', 'lease lost']);
    expect(h.executor.run('t0').graces).toEqual([undefined, 500]);
  });

  it('counts the lease from when the heartbeat was proposed, not when it was applied', () => {
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    h.applyLastClaim();
    h.autoHeartbeat = false;
    h.clock.to(2000); // seq 2 (1000) and seq 3 (2000) proposed, neither applied yet
    h.clock.to(3900);
    // seq 3 is applied late: the lease holds until 2000 + 4000, not 3900 + 4000.
    const seq3 = h.heartbeats().find((c) => c.seq === 3);
    if (seq3 === undefined) throw new Error('no seq 3');
    h.view.heartbeat(seq3, 3900);
    h.effects([]);
    h.clock.to(5999);
    expect(h.executor.run('t0').stops).toEqual([]);
    h.clock.to(6000);
    expect(h.executor.run('t0').stops).toEqual(['lease lost']);
  });

  it('counts the lease from the entry time instead when the cluster time stamped on the heartbeat is earlier than its proposal', () => {
    // A leader that has not heard a quorum's clocks lately stamps the last time it knew, so the
    // scheduler counts this lease from 1200, and ends it at 1200 + 5000 (sim seed 143 of the
    // schedules branch: a worker catching up started a claim the scheduler had already expired).
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    h.applyLastClaim();
    h.autoHeartbeat = false;
    h.clock.to(2000); // seq 3 proposed at 2000
    h.clock.to(3900);
    const seq3 = h.heartbeats().find((c) => c.seq === 3);
    if (seq3 === undefined) throw new Error('no seq 3');
    h.view.heartbeat(seq3, 1200);
    h.effects([]);
    h.clock.to(5199);
    expect(h.executor.run('t0').stops).toEqual([]);
    h.clock.to(5200); // 1200 + 5000 - 1000
    expect(h.executor.run('t0').stops).toEqual(['lease lost']);
  });

  it('after a lease loss, a task the view still gives it is reported abandoned once the lease is back, and the same attempt is never started again', () => {
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    h.applyLastClaim();
    h.autoHeartbeat = false;
    h.clock.to(4000);
    expect(h.executor.run('t0').stops).toEqual(['lease lost']);
    h.executor.run('t0').finish({ outcome: 'failed', exitCode: null });
    h.clock.to(4500);
    expect(h.finishes()).toEqual([]);
    h.autoHeartbeat = true;
    h.clock.to(5000); // heartbeat seq 6 applied: the lease is back
    expect(h.executor.runs).toHaveLength(1);
    expect(h.finishes()).toHaveLength(1);
    expect(h.finishes()[0]?.results).toEqual([
      expect.objectContaining({
        job: 'job-1',
        task: 0,
        attempt: 1,
        outcome: 'abandoned',
        exitCode: null,
        stderr: expect.stringMatching(/could not renew its lease/),
      }),
    ]);
    expect(h.worker.stats.attemptsAbandoned).toBe(1);
  });
});

describe('worker: claims', () => {
  it('claims nothing before its first heartbeat is applied', () => {
    const h = harness();
    h.autoHeartbeat = false;
    h.view.addReady(0);
    h.worker.start();
    h.clock.advance(500);
    expect(h.claims()).toEqual([]);
    const first = h.heartbeats()[0];
    if (first === undefined) throw new Error('no heartbeat');
    h.view.heartbeat(first, 500);
    h.clock.advance(100); // it polls for the first renewal
    expect(h.claims().map((c) => refs(c.tasks))).toEqual([[0]]);
  });

  it('claims in one batched command, only up to its free slots, only tasks whose handler it has', () => {
    const h = started({}, ['noop']);
    h.view.addReady(0, { handler: 'gpu' });
    h.view.addReady(1, { handler: 'noop' });
    h.view.addReady(2, { slots: 3 }); // too big for what is left after task 1, passed over
    h.view.addReady(3);
    h.view.addReady(4);
    h.view.addReady(5);
    h.effects([]);
    expect(h.claims()).toEqual([
      {
        type: 'claim',
        node: SELF,
        boot: BOOT,
        tasks: [
          { job: 'job-1', task: 1 },
          { job: 'job-1', task: 3 },
          { job: 'job-1', task: 4 },
        ],
      },
    ]);
    expect(h.worker.stats).toMatchObject({ claimCommands: 1, claimsProposed: 3 });
    // Claims in flight take the slots: nothing more is claimed however often it is asked.
    expect(h.worker.load()).toMatchObject({ slots: 3, free: 0 });
    h.effects([taskEvent({ job: 'job-1', task: 9 }, 'waiting', 'ready', null, 0, null)]);
    h.clock.advance(500);
    expect(h.claims()).toHaveLength(1);
  });

  it('a claim partly lost to another node: starts what it won, frees the rest, claims again', () => {
    const h = started();
    for (let i = 0; i < 5; i++) h.view.addReady(i);
    h.effects([]);
    expect(refs(h.claims()[0]?.tasks ?? [])).toEqual([0, 1, 2]);
    // Another node's claim for task 1 lands first.
    h.effects([h.view.give({ job: 'job-1', task: 1 }, 'node-b')]);
    // Its slot is free again at once: the next claim takes the next ready task.
    expect(h.claims()).toHaveLength(2);
    expect(refs(h.claims()[1]?.tasks ?? [])).toEqual([3]);
    const first = h.claims()[0];
    if (first === undefined) throw new Error('no claim');
    h.effects(h.view.applyClaim(first));
    expect(h.executor.runs.map((r) => r.launch.name)).toEqual(['t0', 't2']);
    expect(h.worker.load()).toMatchObject({ free: 0, running: 2 });
    h.applyLastClaim();
    expect(h.executor.runs.map((r) => r.launch.name)).toEqual(['t0', 't2', 't3']);
    expect(h.worker.load()).toMatchObject({ free: 0, running: 3 });
    expect(h.worker.stats.claimsExpired).toBe(0);
  });

  it('gives up on a claim that the view never decides after about a second, and claims again', () => {
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    expect(h.claims()).toHaveLength(1);
    h.clock.advance(999);
    expect(h.claims()).toHaveLength(1);
    h.clock.advance(1);
    expect(h.worker.stats.claimsExpired).toBe(1);
    expect(h.claims()).toHaveLength(2);
    expect(refs(h.claims()[1]?.tasks ?? [])).toEqual([0]);
  });

  it('leaves a fresh task to its preferred owner and steals it after stealAfterMs', () => {
    const h = started();
    // Find a task the other (bigger) node owns by rendezvous hashing.
    h.peers = [
      { node: SELF, slots: 3, free: 3, handlers: ['noop'] },
      { node: 'node-b', slots: 100, free: 100, handlers: ['noop'] },
    ];
    h.view.addReady(0);
    h.effects([]);
    const claimedAtOnce = h.claims().length;
    // node-b weighs 100 to 3: task 0 is almost surely its own, and it is for this id pair.
    expect(claimedAtOnce).toBe(0);
    h.clock.to(2000);
    expect(refs(h.claims()[0]?.tasks ?? [])).toEqual([0]);
  });
});

describe('worker: stealing from owners that cannot claim', () => {
  const nodeB = (used: number, running: number): NodeView => ({
    id: 'node-b',
    boot: 1,
    slots: 100,
    ahead: 0,
    handlers: ['noop'],
    labels: {},
    leaseMs: LEASE,
    leaseUntil: 1e9,
    heartbeatSeq: 1,
    used,
    running,
  });
  for (const [what, used, at, stolen] of [
    ['an owner at work with slots free: its next tasks are left to it past stealAfterMs', 50, 2000, false],
    ['an owner at work that left them waiting 3 x stealAfterMs: stolen', 50, 6000, true],
    ['an owner that runs nothing: stolen after stealAfterMs', 0, 2000, true],
  ] as const) {
    it(what, () => {
      const h = started();
      h.peers = [
        { node: SELF, slots: 3, free: 3, handlers: ['noop'] },
        { node: 'node-b', slots: 100, free: 0, handlers: ['noop'] },
      ];
      h.view.nodeViews.set('node-b', nodeB(used, used));
      h.view.addReady(0);
      h.effects([]);
      expect(h.claims()).toEqual([]);
      h.clock.to(at);
      expect(h.claims().length).toBe(stolen ? 1 : 0);
    });
  }

  it('an owner holding all it may hold (every slot and every claim ahead): its tasks are stolen at once', () => {
    const h = started();
    h.peers = [
      { node: SELF, slots: 3, free: 3, handlers: ['noop'] },
      { node: 'node-b', slots: 100, free: 0, handlers: ['noop'] },
    ];
    h.view.nodeViews.set('node-b', { ...nodeB(150, 100), ahead: 50 });
    h.view.addReady(0);
    h.effects([]);
    expect(refs(h.claims()[0]?.tasks ?? [])).toEqual([0]);
  });
});

describe('worker: launching and stopping', () => {
  it("launches a task the effects say this node claimed, with the view's launch", () => {
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    const effects = h.applyLastClaim();
    expect(effects).toHaveLength(1);
    expect(h.executor.runs).toHaveLength(1);
    expect(h.executor.run('t0').launch).toEqual(h.view.launch({ job: 'job-1', task: 0 }));
    expect(h.worker.stats.tasksStarted).toBe(1);
    // The same effects again (a replay) start nothing more.
    h.effects(effects);
    h.effects([]);
    expect(h.executor.runs).toHaveLength(1);
  });

  it('never launches a task whose launch attempt does not match the effect', () => {
    const h = started();
    h.view.addReady(0);
    const event = h.view.give({ job: 'job-1', task: 0 }, SELF); // attempt 1 in the view
    h.effects([{ ...event, attempt: 2 }]);
    expect(h.executor.runs).toEqual([]);
    // The view moved on to attempt 2 (attempt 1 was lost and claimed again): the old effect starts nothing.
    h.view.running.delete('job-1/0');
    h.view.readyTasks = [];
    h.view.addReady(0);
    const second = h.view.give({ job: 'job-1', task: 0 }, SELF);
    expect(second.attempt).toBe(2);
    h.worker.onEffects([event]);
    // (no turn runs here: onEffects must not start attempt 2 on behalf of attempt 1's event)
    expect(h.executor.runs).toEqual([]);
    h.clock.advance(0);
    h.effects([second]);
    expect(h.executor.runs.map((r) => r.launch.attempt)).toEqual([2]);
  });

  it('does not launch a claim the view credits to another boot of this node', () => {
    const h = started();
    h.view.addReady(0);
    // The node restarted elsewhere (another boot's heartbeat was applied last).
    const mine = h.view.node(SELF);
    if (mine === undefined) throw new Error('no node view');
    h.autoHeartbeat = false;
    h.view.nodeViews.set(SELF, { ...mine, boot: BOOT + 1, heartbeatSeq: 1 });
    h.effects([h.view.give({ job: 'job-1', task: 0 }, SELF)]);
    h.effects([]);
    expect(h.executor.runs).toEqual([]);
  });

  it('does not launch a task claimed by another node', () => {
    const h = started();
    h.view.addReady(0);
    h.effects([h.view.give({ job: 'job-1', task: 0 }, 'node-b')]);
    h.effects([]);
    expect(h.executor.runs).toEqual([]);
  });

  it('a stop effect stops the attempt, and its result is not reported', () => {
    const h = started();
    h.view.addReady(0);
    h.view.addReady(1);
    h.effects([]);
    h.applyLastClaim();
    // Stops for another node or another attempt are not for it.
    h.effects([{ type: 'stop', job: 'job-1', task: 0, node: 'node-b', attempt: 1, reason: 'x' }]);
    h.effects([{ type: 'stop', job: 'job-1', task: 0, node: SELF, attempt: 2, reason: 'x' }]);
    expect(h.executor.run('t0').stops).toEqual([]);
    h.effects(h.view.revoke({ job: 'job-1', task: 0 }, 'cancelled'));
    expect(h.executor.run('t0').stops).toEqual(['cancelled']);
    expect(h.executor.run('t0').graces).toEqual([undefined]);
    expect(h.executor.run('t1').stops).toEqual([]);
    expect(h.worker.stats.tasksStopped).toBe(1);
    h.executor.run('t0').finish({ outcome: 'failed', exitCode: null, stderr: 'stopped' });
    h.clock.advance(3000);
    expect(h.finishes()).toEqual([]);
    expect(h.worker.load()).toMatchObject({ running: 1 });
  });

  it('a snapshot (effects: none) starts whatever the view says this boot holds', () => {
    const h = started();
    h.view.addReady(0);
    h.view.give({ job: 'job-1', task: 0 }, SELF);
    h.worker.onEffects([]);
    h.clock.advance(0);
    expect(h.executor.runs.map((r) => r.launch.name)).toEqual(['t0']);
  });
});

describe('worker: finishes', () => {
  it('batches the results of one turn into one finish, with claimNext and the attempts', () => {
    const h = started();
    for (let i = 0; i < 3; i++) h.view.addReady(i);
    h.effects([]);
    h.applyLastClaim();
    h.executor.run('t0').finish();
    h.executor.run('t2').finish({ outcome: 'failed', exitCode: 3, stderr: 'boom' });
    h.clock.advance(0);
    expect(h.finishes()).toEqual([
      {
        type: 'finish',
        node: SELF,
        boot: BOOT,
        claimNext: true,
        results: [
          { job: 'job-1', task: 0, attempt: 1, outcome: 'succeeded', exitCode: 0, durationMs: 5, stdout: 'out', stderr: '' },
          { job: 'job-1', task: 2, attempt: 1, outcome: 'failed', exitCode: 3, durationMs: 5, stdout: 'out', stderr: 'boom' },
        ],
      },
    ]);
    // A reported but unapplied result still holds its slots.
    expect(h.worker.load()).toMatchObject({ free: 0, running: 1 });
    h.applyLastFinish();
    expect(h.worker.load()).toMatchObject({ free: 2, running: 1 });
  });

  it("hands the executor the view's inputs, and carries a success's output (never a failure's) in the finish", () => {
    const h = started();
    for (let i = 0; i < 3; i++) h.view.addReady(i);
    h.view.given.set(1, { up: 'value' });
    h.effects([]);
    h.applyLastClaim();
    expect(h.executor.run('t0').launch.inputs).toBeUndefined();
    expect(h.executor.run('t1').launch.inputs).toEqual({ up: 'value' });
    h.executor.run('t0').finish({ output: 'zero' });
    h.executor.run('t1').finish({ outcome: 'failed', exitCode: 1, output: 'ignored' });
    h.executor.run('t2').finish({ output: '' });
    h.clock.advance(0);
    expect(h.finishes().flatMap((f) => f.results.map((r) => [r.task, r.output]))).toEqual([
      [0, 'zero'],
      [1, undefined],
      [2, undefined],
    ]);
  });

  it('keeps a finish under half an entry: results with large outputs go in several finishes', () => {
    const h = started();
    for (let i = 0; i < 3; i++) h.view.addReady(i);
    h.effects([]);
    h.applyLastClaim();
    const big = 'x'.repeat(300_000);
    for (let i = 0; i < 3; i++) h.executor.run(`t${i}`).finish({ output: big });
    h.clock.advance(0);
    expect(h.finishes().map((f) => f.results.map((r) => r.task))).toEqual([[0], [1], [2]]);
  });

  it('claims with the slots its results free in the same finish: one command, one commit per task when busy', () => {
    const h = started();
    for (let i = 0; i < 5; i++) h.view.addReady(i);
    h.effects([]);
    expect(refs(h.claims()[0]?.tasks ?? [])).toEqual([0, 1, 2]);
    h.applyLastClaim();
    h.executor.run('t0').finish();
    h.executor.run('t1').finish();
    h.clock.advance(0);
    // Full (3 slots, 1 running, 2 results unapplied): the two results' slots go to tasks 3 and 4 in the same command.
    expect(h.claims()).toHaveLength(1);
    const f = h.finishes().at(-1);
    expect(refs(f?.results ?? [])).toEqual([0, 1]);
    expect(refs(f?.claims ?? [])).toEqual([3, 4]);
    expect(h.worker.load()).toMatchObject({ free: 0 });
    h.applyLastFinish();
    expect(h.executor.runs.map((r) => r.launch.task)).toEqual([0, 1, 2, 3, 4]);
    expect(h.worker.load()).toMatchObject({ free: 0, running: 3 });
    expect(h.worker.stats).toMatchObject({ claimCommands: 2, claimsProposed: 5, finishesProposed: 1 });
  });

  it('claims ride with results that have dependents too: claimNext, applied first, has first call on the slots', () => {
    const h = started();
    h.view.withDependents = true;
    for (let i = 0; i < 5; i++) h.view.addReady(i);
    h.effects([]);
    h.applyLastClaim();
    h.executor.run('t0').finish();
    h.clock.advance(0);
    // Whether the result readies a dependent is not known here: a claim the dependent's claimNext
    // leaves no room for is refused (and named to this node), one it leaves room for saves a commit.
    expect(refs(h.finishes().at(-1)?.claims ?? [])).toEqual([3]);
    expect(h.claims()).toHaveLength(1);
  });

  it('claims that rode in a finish and were all rejected are settled with the finish, not after a second', () => {
    const h = started();
    for (let i = 0; i < 4; i++) h.view.addReady(i);
    h.effects([]);
    h.applyLastClaim();
    h.executor.run('t0').finish();
    h.clock.advance(0);
    const f = h.finishes().at(-1) as Finish;
    expect(refs(f.claims ?? [])).toEqual([3]);
    // The finish applies with its claim rejected (say claimNext took the slot): task 3 stays ready, no event says so.
    h.effects(h.view.applyFinish({ ...f, claims: [] }));
    // The worker knows the entry decided its claim, and claims task 3 again at once.
    expect(h.claims().map((c) => refs(c.tasks))).toEqual([[0, 1, 2], [3]]);
    expect(h.worker.stats.claimsExpired).toBe(0);
  });

  it('re-sends results the view has not applied after about a second, and stops once applied', () => {
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    h.applyLastClaim();
    h.executor.run('t0').finish();
    h.clock.advance(0);
    expect(h.finishes()).toHaveLength(1);
    h.clock.advance(999);
    expect(h.finishes()).toHaveLength(1);
    h.clock.advance(1);
    expect(h.finishes()).toHaveLength(2);
    expect(h.finishes()[1]?.results).toEqual(h.finishes()[0]?.results);
    expect(h.worker.stats.resultsResent).toBe(1);
    h.applyLastFinish();
    h.clock.advance(10_000);
    expect(h.finishes()).toHaveLength(2);
  });

  it('re-sends a finish Raft refused at once', () => {
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    h.applyLastClaim();
    h.accept = false;
    h.executor.run('t0').finish();
    h.clock.advance(0);
    expect(h.finishes()).toHaveLength(1);
    expect(h.worker.stats).toMatchObject({ finishesProposed: 0, proposalsRefused: 1 });
    h.accept = true;
    h.clock.advance(1000);
    expect(h.finishes()).toHaveLength(2);
    expect(h.finishes()[1]?.results.map((r) => r.task)).toEqual([0]);
    expect(h.worker.stats).toMatchObject({ finishesProposed: 1, resultsProposed: 1, resultsResent: 1 });
  });

  it('proposes nothing after stop()', () => {
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    h.applyLastClaim();
    const before = h.proposed.length;
    h.worker.stop();
    expect(h.executor.run('t0').stops).toEqual(['worker stopped']);
    h.executor.run('t0').finish();
    h.clock.advance(10_000);
    expect(h.proposed).toHaveLength(before);
  });
});

describe('worker: load', () => {
  it('reports slots, free slots, running attempts and handlers', () => {
    const h = started({ slots: 4 }, ['noop', 'sleep']);
    expect(h.worker.load()).toEqual({ slots: 4, free: 4, running: 0, handlers: ['noop', 'sleep'] });
    h.view.addReady(0, { slots: 2 });
    h.view.addReady(1);
    h.effects([]);
    expect(h.worker.load()).toEqual({ slots: 4, free: 1, running: 0, handlers: ['noop', 'sleep'] });
    h.applyLastClaim();
    expect(h.worker.load()).toEqual({ slots: 4, free: 1, running: 2, handlers: ['noop', 'sleep'] });
    h.executor.run('t0').finish();
    h.clock.advance(0);
    h.applyLastFinish();
    expect(h.worker.load()).toEqual({ slots: 4, free: 3, running: 1, handlers: ['noop', 'sleep'] });
  });
});

describe('worker: claiming ahead', () => {
  /** Runs tasks 0-7 to their end one after another (5 ms each: short), every finish applied. */
  function warmed(): Harness {
    const h = started();
    for (let i = 0; i < 8; i++) h.view.addReady(i);
    h.effects([]);
    h.applyLastClaim();
    for (let i = 0; i < 8; i++) {
      h.executor.run(`t${i}`).finish();
      h.clock.advance(0);
      h.applyLastFinish();
    }
    return h;
  }

  it('asks for nothing ahead until it has seen 8 short runs, then for `ahead` at once', () => {
    const h = started();
    expect(h.heartbeats().at(-1)?.ahead).toBeUndefined();
    const w = warmed();
    expect(w.heartbeats().at(-1)?.ahead).toBe(3);
    expect(w.view.node(SELF)?.ahead).toBe(3);
    // Its load report counts slots only: 3 free of 3, though it may claim 6 (gossip refuses free > slots).
    expect(w.worker.load()).toMatchObject({ slots: 3, free: 3 });
  });

  it('claims beyond its free slots and starts what waits as soon as a running task ends', () => {
    const h = warmed();
    for (let i = 8; i < 18; i++) h.view.addReady(i);
    h.effects([]);
    // 3 slots and 3 ahead: six claims; three start, three wait on the node.
    expect(refs(h.claims().at(-1)?.tasks ?? [])).toEqual([8, 9, 10, 11, 12, 13]);
    h.applyLastClaim();
    const started8to13 = () => h.executor.runs.filter((r) => r.launch.task >= 8).map((r) => r.launch.task);
    expect(started8to13()).toEqual([8, 9, 10]);
    expect(h.worker.load()).toMatchObject({ running: 3, free: 0 });
    // Task 8 ends: 11 starts now, before the finish is even applied; the finish claims one more.
    h.executor.run('t8').finish();
    h.clock.advance(0);
    expect(started8to13()).toEqual([8, 9, 10, 11]);
    expect(refs(h.finishes().at(-1)?.claims ?? [])).toEqual([14]);
  });

  it('never starts a waiting task the scheduler took back', () => {
    const h = warmed();
    for (let i = 8; i < 14; i++) h.view.addReady(i);
    h.effects([]);
    h.applyLastClaim();
    const launch = h.view.launch({ job: 'job-1', task: 11 });
    h.view.running.delete('job-1/11');
    h.effects([taskEvent({ job: 'job-1', task: 11 }, 'running', 'ready', SELF, launch?.attempt ?? 0, null)]);
    h.executor.run('t8').finish();
    h.clock.advance(0);
    expect(h.executor.runs.filter((r) => r.launch.task >= 8).map((r) => r.launch.task)).toEqual([8, 9, 10, 12]);
  });

  it('turns claiming ahead off when its runs grow long, and says so in a heartbeat at once', () => {
    const h = warmed();
    for (let i = 8; i < 11; i++) h.view.addReady(i);
    h.effects([]);
    h.applyLastClaim();
    h.executor.run('t8').finish({ durationMs: 500 });
    h.executor.run('t9').finish({ durationMs: 500 });
    h.clock.advance(0);
    expect(h.heartbeats().at(-1)?.ahead).toBeUndefined();
    expect(h.view.node(SELF)?.ahead).toBe(0);
  });

  it('a refused claim frees its slot at once: the next claim goes out without waiting for the retry period', () => {
    const h = started();
    h.view.addReady(0);
    h.effects([]);
    expect(h.claims()).toHaveLength(1);
    h.effects([{ type: 'claim-refused', node: SELF, job: 'job-1', task: 0 }]);
    expect(h.claims()).toHaveLength(2);
    expect(refs(h.claims()[1]?.tasks ?? [])).toEqual([0]);
  });
});
