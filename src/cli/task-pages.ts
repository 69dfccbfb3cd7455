// Reading a job's tasks page by page (docs/http-api.md §6): the CLI, the benchmarks and the tests
// follow `next` until it is null. Shared so every client builds the query the same way.
import type { TaskItem, TaskPage, TaskState } from '../scheduler/types.js';

/** GET of an API path answering JSON (the caller's client: token, fail-over, errors). */
export type GetJson = <T>(path: string) => Promise<T>;

export interface TaskFilter {
  readonly state?: TaskState;
  readonly spec?: string;
  /** Tasks per page (the API's default when absent: 500; at most 5,000). */
  readonly limit?: number;
}

export function tasksPath(id: string, filter: TaskFilter, after: string | null): string {
  const q = new URLSearchParams();
  if (filter.state !== undefined) q.set('state', filter.state);
  if (filter.spec !== undefined) q.set('spec', filter.spec);
  if (filter.limit !== undefined) q.set('limit', String(filter.limit));
  if (after !== null) q.set('after', after);
  const query = q.toString();
  return `/v1/jobs/${encodeURIComponent(id)}/tasks${query === '' ? '' : `?${query}`}`;
}

/** The job's tasks matching `filter`, in task order, at most `max` of them (fetching only the pages needed). */
export async function collectTasks(get: GetJson, id: string, filter: TaskFilter = {}, max = Infinity): Promise<TaskItem[]> {
  const out: TaskItem[] = [];
  let after: string | null = null;
  do {
    const page: TaskPage = await get<TaskPage>(tasksPath(id, filter, after));
    out.push(...page.tasks);
    after = page.next;
  } while (after !== null && out.length < max);
  return out.length > max ? out.slice(0, max) : out;
}
