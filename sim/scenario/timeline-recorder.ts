// Builds a scenario's timeline from what the run reports: the scheduler workload's observer
// (executions on the nodes, effects committed to the log), the cluster's role changes and the
// scripted faults. Names jobs and tasks as the user wrote them, and counts what the summary shows.
import type { NodeId } from '../../src/raft/types.js';
import type { Command, Effect, JobId } from '../../src/scheduler/types.js';
import type { PlannedJob } from '../dag-gen.js';
import type { SchedulerObserver } from '../scheduler-workload.js';
import type { ExecRecord } from '../sim-executor.js';
import type { TimelineEvent, Untimed } from './timeline.js';

export interface RunStats {
  elections: number;
  claims: number;
  runs: number;
  leaseExpiries: number;
  retries: number;
}

export class TimelineRecorder implements SchedulerObserver {
  readonly timeline: TimelineEvent[] = [];
  readonly stats: RunStats = { elections: 0, claims: 0, runs: 0, leaseExpiries: 0, retries: 0 };
  /** Job ids as the log assigned them, to the DAG's name. */
  readonly names = new Map<JobId, string>();
  /** Simulated time; set once the cluster exists. */
  now: () => number = () => 0;
  /** Current leaders and the term each leads. */
  private readonly leaders = new Map<NodeId, number>();

  constructor(private readonly plans: readonly PlannedJob[]) {}

  emit(e: Untimed<TimelineEvent>): void {
    this.timeline.push({ ...e, t: this.now() });
  }

  /** A node's role or term changed (Cluster.onRole). */
  role(id: NodeId, role: string, term: number): void {
    if (role === 'leader') {
      this.stats.elections++;
      this.leaders.set(id, term);
      this.emit({ kind: 'leader', node: id, term });
      return;
    }
    // The term it led, not the newer one it may have just learned.
    const led = this.leaders.get(id);
    if (led === undefined) return;
    this.leaders.delete(id);
    this.emit({ kind: 'stepdown', node: id, term: led, role });
  }

  /** A crashed leader leads nothing (its restart must not look like a step-down). */
  crashed(id: NodeId): void {
    this.leaders.delete(id);
  }

  // ----- SchedulerObserver ---------------------------------------------------------------------

  execStarted(r: ExecRecord): void {
    this.stats.runs++;
    this.emit({ kind: 'start', job: this.jobName(r.job), task: r.name, node: r.node, attempt: r.attempt, fence: r.fence });
  }

  execEnded(r: ExecRecord): void {
    this.emit({
      kind: 'end',
      job: this.jobName(r.job),
      task: r.name,
      node: r.node,
      attempt: r.attempt,
      fence: r.fence,
      how: r.end ?? 'completed',
      outcome: r.outcome ?? 'failed',
      startedAt: r.startedAt,
    });
  }

  acknowledged(plan: PlannedJob, job: JobId, node: NodeId): void {
    this.emit({ kind: 'submit', job: plan.name, via: node, id: job });
  }

  committed(_index: number, cmd: Command | null, effects: readonly Effect[]): void {
    for (const e of effects) {
      if (e.type === 'submitted' && !e.existing && (cmd?.type === 'submit' || cmd?.type === 'submit-part')) {
        this.names.set(e.job, cmd.spec.name);
      } else if (e.type === 'task') {
        const job = this.jobName(e.job);
        if (e.to === 'running') {
          this.stats.claims++;
          this.emit({ kind: 'claim', job, task: e.name, node: e.node ?? '-', attempt: e.attempt, fence: e.fence ?? 0 });
        } else if (e.from === 'running' || e.to === 'skipped' || e.to === 'failed') {
          if (e.reason === 'lease expired') this.stats.leaseExpiries++;
          else if (e.from === 'running' && (e.to === 'ready' || e.to === 'waiting')) this.stats.retries++;
          this.emit({ kind: 'task', job, task: e.name, from: e.from, to: e.to, node: e.node, attempt: e.attempt, reason: e.reason });
        }
      } else if (e.type === 'tasks' && (e.to === 'skipped' || e.to === 'failed')) {
        this.emit({ kind: 'note', text: `${this.jobName(e.job)}: ${e.end - e.start} tasks ${e.to}${e.reason ? ` (${e.reason})` : ''}` });
      } else if (e.type === 'schedule-tick') {
        // A run of a schedule is named by its schedule and tick (the job id says nothing to a reader).
        if (e.job !== null) this.names.set(e.job, `${e.schedule}@${new Date(e.tick).toISOString().slice(11, 19)}`);
        const what = e.count > 1 ? `${e.count} ticks ${e.outcome}` : `tick ${new Date(e.tick).toISOString().slice(11, 19)} ${e.outcome}`;
        this.emit({ kind: 'note', text: `schedule ${e.schedule}: ${what}${e.job === null ? '' : ` (job ${e.job})`}` });
      } else if (e.type === 'job') {
        this.emit({ kind: 'job', job: this.jobName(e.job), state: e.state });
      } else if (e.type === 'ignored' && e.command === 'finish' && cmd?.type === 'finish') {
        this.refused(cmd.node, e.reason);
      }
    }
  }

  /** The scheduler names a refused result `<job id>/<task index> attempt <n>: <why>`; the timeline names the task. */
  private refused(node: string, reason: string): void {
    const m = /^([^/]+)\/(\d+) attempt (\d+): (.*)$/.exec(reason);
    if (!m) {
      this.emit({ kind: 'note', text: `a finish from ${node} is refused: ${reason}` });
      return;
    }
    const [, id = '', index = '0', attempt = '0', why = ''] = m;
    const job = this.jobName(id);
    const task = this.plans.find((p) => p.name === job)?.tasks[Number(index)]?.name ?? `#${index}`;
    this.emit({ kind: 'refused', job, task, node, attempt: Number(attempt), why });
  }

  private jobName(id: JobId): string {
    return this.names.get(id) ?? id;
  }
}
