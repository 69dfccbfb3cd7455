// A SchedulerView that always reads the current machine: a snapshot from the leader replaces the
// whole Scheduler, and readers (the worker, the API) must not hold on to the old one.
import type { Scheduler } from './machine.js';
import type { SchedulerView } from './types.js';

export function liveView(current: () => Scheduler): SchedulerView {
  return {
    get now() {
      return current().now;
    },
    get stats() {
      return current().stats;
    },
    job: (id) => current().job(id),
    jobs: () => current().jobs(),
    jobSummary: (id) => current().jobSummary(id),
    jobDetail: (id) => current().jobDetail(id),
    jobProgress: (id) => current().jobProgress(id),
    task: (id, name) => current().task(id, name),
    taskPage: (id, query) => current().taskPage(id, query),
    specPage: (id, query) => current().specPage(id, query),
    jobSpec: (id) => current().jobSpec(id),
    jobWithKey: (key) => current().jobWithKey(key),
    ready: () => current().ready(),
    readyCount: () => current().readyCount(),
    node: (id) => current().node(id),
    nodes: () => current().nodes(),
    held: (node) => current().held(node),
    launch: (ref) => current().launch(ref),
    inputs: (ref) => current().inputs(ref),
    nextDeadline: () => current().nextDeadline(),
    pools: () => current().pools(),
    pool: (name) => current().pool(name),
    jobRunning: (id) => current().jobRunning(id),
    schedules: () => current().schedules(),
    schedule: (name) => current().schedule(name),
    scheduleTicks: () => current().scheduleTicks(),
  };
}
