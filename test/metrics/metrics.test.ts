import { describe, expect, it } from 'vitest';
import { createNodeMetrics, type MetricSources } from '../../src/metrics/metrics.js';
import type { JobSummary, SchedulerStats, TaskState } from '../../src/scheduler/types.js';

function counts(c: Partial<Record<TaskState, number>>): Pick<JobSummary, 'counts'> {
  return { counts: { waiting: 0, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, ...c } };
}

function setup() {
  let jobs = [counts({ waiting: 3, ready: 1 })];
  let jobsCalls = 0;
  let now = 1000;
  const stats: SchedulerStats = {
    applied: 0,
    undecodable: 0,
    claimsAccepted: 7,
    claimsRejected: 2,
    finishesAccepted: 0,
    finishesStale: 0,
    leaseExpiries: 1,
    retries: 0,
    jobsRemoved: 0,
  };
  const src: MetricSources = {
    raftStatus: () => ({ term: 4, commit: 20, applied: 19, role: 'leader' }),
    raftStats: () => ({
      droppedStaleTerm: 0,
      droppedUnknownNode: 3,
      droppedRivalLeader: 0,
      refusedForwardedConf: 1,
      refusedSnapshots: 0,
      lostAcknowledged: 0,
      droppedMalformed: 0,
      droppedProposals: 0,
      leaderChanges: 2,
      snapshotsSent: 0,
      snapshotsInstalled: 1,
    }),
    schedulerStats: () => stats,
    schedulerNow: () => now,
    jobs: () => {
      jobsCalls++;
      return jobs;
    },
    gossipStats: () => ({ published: 5, accepted: 9, expired: 1 }),
  };
  const m = createNodeMetrics(src, { defaultMetrics: false });
  return {
    m,
    setJobs: (j: typeof jobs) => (jobs = j),
    jobsCalls: () => jobsCalls,
    advance: (ms: number) => (now += ms),
  };
}

function value(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('node metrics', () => {
  it('mirrors the Raft and scheduler counters and gauges', async () => {
    const { m } = setup();
    const t = await m.text();
    expect(value(t, 'meshrun_raft_term')).toBe(4);
    expect(value(t, 'meshrun_raft_commit_index')).toBe(20);
    expect(value(t, 'meshrun_raft_applied_index')).toBe(19);
    expect(value(t, 'meshrun_raft_leader_changes_total')).toBe(2);
    expect(value(t, 'meshrun_claims_accepted_total')).toBe(7);
    expect(value(t, 'meshrun_claims_rejected_total')).toBe(2);
    expect(value(t, 'meshrun_lease_expiries_total')).toBe(1);
    expect(value(t, 'meshrun_gossip_messages_total{kind="accepted"}')).toBe(9);
    expect(t).not.toContain('kind="expired"');
    // Stable across scrapes (a mirrored counter is reset and set, not added to).
    expect(value(await m.text(), 'meshrun_claims_accepted_total')).toBe(7);
  });

  it('keeps tasks by state from effects, recounting from job counts only after a submit, removal or restore', async () => {
    const { m, setJobs, jobsCalls } = setup();
    let t = await m.text();
    expect(value(t, 'meshrun_tasks{state="waiting"}')).toBe(3);
    expect(value(t, 'meshrun_tasks{state="ready"}')).toBe(1);
    expect(jobsCalls()).toBe(1);
    m.onEffects([
      { type: 'task', job: 'j', task: 0, name: 'a', from: 'ready', to: 'running', node: 'n', attempt: 1, fence: 5, reason: null },
      { type: 'tasks', job: 'j', start: 1, end: 3, from: 'waiting', to: 'ready', reason: null },
    ]);
    t = await m.text();
    expect(jobsCalls()).toBe(1);
    expect(value(t, 'meshrun_tasks{state="waiting"}')).toBe(1);
    expect(value(t, 'meshrun_tasks{state="ready"}')).toBe(2);
    expect(value(t, 'meshrun_tasks{state="running"}')).toBe(1);
    setJobs([counts({ succeeded: 10 })]);
    m.onEffects([{ type: 'submitted', requested: 'k', job: 'k', existing: false }]);
    t = await m.text();
    expect(jobsCalls()).toBe(2);
    expect(value(t, 'meshrun_tasks{state="succeeded"}')).toBe(10);
    expect(value(t, 'meshrun_tasks{state="running"}')).toBe(0);
    m.onRestore();
    await m.text();
    expect(jobsCalls()).toBe(3);
  });

  it('times tasks from running to their end in scheduler time, by outcome', async () => {
    const { m, advance } = setup();
    const ev = (from: TaskState, to: TaskState) => ({
      type: 'task' as const,
      job: 'j',
      task: 0,
      name: 'a',
      from,
      to,
      node: 'n',
      attempt: 1,
      fence: 5,
      reason: null,
    });
    m.onEffects([ev('ready', 'running')]);
    advance(2500);
    m.onEffects([ev('running', 'failed')]);
    const t = await m.text();
    expect(value(t, 'meshrun_task_duration_seconds_sum{outcome="failed"}')).toBe(2.5);
    expect(value(t, 'meshrun_task_duration_seconds_count{outcome="failed"}')).toBe(1);
  });

  it("forgets a removed job's start times and keeps the other jobs'", async () => {
    const { m, advance } = setup();
    const ev = (job: string, task: number, from: TaskState, to: TaskState) => ({
      type: 'task' as const,
      job,
      task,
      name: `t${task}`,
      from,
      to,
      node: 'n',
      attempt: 1,
      fence: 5,
      reason: null,
    });
    m.onEffects([ev('a', 0, 'ready', 'running'), ev('a', 1, 'ready', 'running'), ev('b', 0, 'ready', 'running')]);
    advance(1000);
    m.onEffects([ev('a', 1, 'running', 'succeeded'), { type: 'removed', job: 'a' }]);
    advance(1000);
    // Job a's task 0 ended after its job's removal: not timed. Job b's task 0 is, from its own start.
    m.onEffects([ev('a', 0, 'running', 'succeeded'), ev('b', 0, 'running', 'succeeded')]);
    const t = await m.text();
    expect(value(t, 'meshrun_task_duration_seconds_count{outcome="succeeded"}')).toBe(2);
    expect(value(t, 'meshrun_task_duration_seconds_sum{outcome="succeeded"}')).toBe(3);
  });

  it('counts proposals by result, times appended ones until applied, and records snapshots', async () => {
    const { m } = setup();
    m.onPropose({ ok: true, index: 11, term: 4 });
    m.onPropose({ ok: true, index: 12, term: 4 });
    m.onPropose({ ok: true, forwarded: true });
    m.onPropose({ ok: false, reason: 'no-leader' });
    m.onApplied(11);
    m.onApplied(12);
    m.onApplied(13);
    const snap = { meta: { index: 12, term: 4, conf: { voters: ['a'], learners: [] } }, data: new Uint8Array(300) };
    m.onReady({ snapshot: null, compaction: snap });
    const t = await m.text();
    expect(value(t, 'meshrun_raft_proposals_total{result="appended"}')).toBe(2);
    expect(value(t, 'meshrun_raft_proposals_total{result="forwarded"}')).toBe(1);
    expect(value(t, 'meshrun_raft_proposals_total{result="no-leader"}')).toBe(1);
    expect(value(t, 'meshrun_raft_proposal_latency_seconds_count')).toBe(2);
    expect(value(t, 'meshrun_snapshots_total{kind="taken"}')).toBe(1);
    expect(value(t, 'meshrun_snapshot_size_bytes')).toBe(300);
  });

  it('gives each node its own registry', async () => {
    const a = setup().m;
    const b = setup().m;
    a.onPropose({ ok: true, forwarded: true });
    expect(value(await b.text(), 'meshrun_raft_proposals_total{result="forwarded"}')).toBeUndefined();
    expect(a.registry).not.toBe(b.registry);
  });
});
