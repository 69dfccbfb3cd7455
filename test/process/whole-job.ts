// The whole job as tests compare it (every task keyed by name, the scheduler's JobView): the
// API serves the summary, pages of specs and pages of tasks (docs/http-api.md §6), so this reads them all.
import { collectSpecs, collectTasks, type GetJson } from '../../src/cli/task-pages.js';
import type { JobDetail, JobView, TaskView } from '../../src/scheduler/types.js';
import { authHeaders, type NodeProcess } from './spawn.js';

/** Reads GET /v1/jobs/{id} and every page of its tasks through `get`, which throws on a non-200. */
export async function wholeJob(get: GetJson, id: string): Promise<JobView> {
  const { specCount: _count, cancelled: _cancelled, specsNext, ...detail } = await get<JobDetail>(`/v1/jobs/${encodeURIComponent(id)}`);
  const specs = specsNext === null ? detail.specs : [...detail.specs, ...(await collectSpecs(get, id, specsNext))];
  const items = await collectTasks(get, id, { limit: 5000 });
  const tasks: Record<string, TaskView> = {};
  for (const { name, ...view } of items) tasks[name] = view;
  return { ...detail, specs: specs.map((s) => ({ name: s.name, deps: s.deps, shards: s.shards })), tasks };
}

/** A GetJson over fetch: `base` plus the path, 200 or a thrown error naming the status and body. */
export function fetchGet(base: string, init: RequestInit = {}): GetJson {
  return async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, init);
    if (res.status !== 200) throw new Error(`GET ${path} on ${base} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
}

/** A GetJson on `node`'s API with its token. */
export function nodeGet(node: Pick<NodeProcess, 'apiUrl' | 'token'>): GetJson {
  return fetchGet(node.apiUrl, { headers: authHeaders(node), signal: AbortSignal.timeout(10_000) });
}
