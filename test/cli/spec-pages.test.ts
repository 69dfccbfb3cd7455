// `meshrun status --json` prints every spec of a job whose answer lists only the first page
// (docs/cli.md §6): withEverySpec follows GET /v1/jobs/{id}/specs from the answer's cursor.
import { describe, expect, it } from 'vitest';
import { withEverySpec } from '../../src/cli/job-commands.js';
import type { GetJson } from '../../src/cli/task-pages.js';
import type { JobDetail, SpecPage, SpecSummary } from '../../src/scheduler/types.js';

const counts = { waiting: 1, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
const spec = (i: number): SpecSummary => ({ name: `s${i}`, deps: [], shards: null, counts, cancelled: 0, stuck: null });
const ALL = Array.from({ length: 12_345 }, (_, i) => spec(i));

/** A fake API serving ALL in pages of at most `limit` after the named spec; records the paths asked. */
function fakeGet(asked: string[]): GetJson {
  return <T>(path: string): Promise<T> => {
    asked.push(path);
    const url = new URL(path, 'http://x');
    expect(url.pathname).toBe('/v1/jobs/j1/specs');
    const limit = Number(url.searchParams.get('limit'));
    const after = url.searchParams.get('after');
    const start = after === null ? 0 : ALL.findIndex((s) => s.name === after) + 1;
    const specs = ALL.slice(start, start + limit);
    const page: SpecPage = { specs, next: start + limit < ALL.length ? (specs.at(-1)?.name ?? null) : null };
    return Promise.resolve(page as T);
  };
}

const detail = (specs: SpecSummary[], specsNext: string | null): JobDetail => ({
  id: 'j1',
  name: 'wide',
  state: 'running',
  submittedAt: 0,
  finishedAt: null,
  counts: { ...counts, waiting: ALL.length },
  specCount: ALL.length,
  cancelled: 0,
  specs,
  specsNext,
});

describe('withEverySpec', () => {
  it('adds every spec after the first page, in order, in pages of 5,000, and clears the cursor', async () => {
    const asked: string[] = [];
    const whole = await withEverySpec(fakeGet(asked), detail(ALL.slice(0, 500), 's499'));
    expect(whole.specs.map((s) => s.name)).toEqual(ALL.map((s) => s.name));
    expect(whole.specsNext).toBeNull();
    expect(asked).toEqual([
      '/v1/jobs/j1/specs?limit=5000&after=s499',
      '/v1/jobs/j1/specs?limit=5000&after=s5499',
      '/v1/jobs/j1/specs?limit=5000&after=s10499',
    ]);
  });

  it('asks nothing when the answer lists every spec', async () => {
    const asked: string[] = [];
    const job = detail(ALL.slice(0, 3), null);
    expect(await withEverySpec(fakeGet(asked), job)).toBe(job);
    expect(asked).toEqual([]);
  });
});
