// Reading a job's tasks, or its specs, page by page (docs/http-api.md §6): the CLI, the benchmarks
// and the tests follow `next` until it is null. Shared so every client builds the query the same way.
import type { SpecPage, SpecSummary, TaskItem, TaskPage, TaskState } from '../scheduler/types.js';

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

/** Specs per page the collectors ask for: the API's maximum. */
const SPEC_PAGE = 5000;

/** The job's specs after the spec `after` (the job answer's `specsNext`), in DAG order, every page. */
export async function collectSpecs(get: GetJson, id: string, after: string | null = null): Promise<SpecSummary[]> {
  const out: SpecSummary[] = [];
  let cursor = after;
  do {
    const q = new URLSearchParams({ limit: String(SPEC_PAGE) });
    if (cursor !== null) q.set('after', cursor);
    const page: SpecPage = await get<SpecPage>(`/v1/jobs/${encodeURIComponent(id)}/specs?${q.toString()}`);
    out.push(...page.specs);
    cursor = page.next;
  } while (cursor !== null);
  return out;
}
