// The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against a real
// node started with an API token: the page asks for the token, draws the DAG with dagre and
// follows the job live until every task has succeeded, shows a task's details, and lists the
// jobs. Screenshots go to test/artifacts/ (git-ignored) for a human to look at.
//
// Without /usr/bin/chromium the test is skipped with a message saying how to install it, except
// under CI=true, where a missing browser is a failure.
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDetail } from '../../src/scheduler/types.js';
import { eventually, Processes, type NodeProcess } from '../process/spawn.js';
import { ARTIFACTS, haveChromium, openBrowser } from './chromium.js';

const TOKEN = 'dashboard-test-token';
/** Bound on the job finishing as seen by the page (23 short shell tasks on a 2-slot node, plus a browser). */
const JOB_MS = 60_000;

/** ~10 specs, 23 tasks: a sharded build (3, drawn as chips) and a sharded test (12, drawn as one box with counts). */
interface Dag {
  readonly name: string;
  readonly defaults?: Record<string, unknown>;
  readonly tasks: Record<string, { readonly run: string; readonly deps?: readonly string[]; readonly shards?: number }>;
}

const DAG: Dag = {
  name: 'ci-pipeline',
  defaults: { retries: 1, timeout: '1m' },
  tasks: {
    checkout: { run: 'echo "checked out rev 3f9c2e1"; sleep 0.4' },
    install: { run: 'echo "added 412 packages"; sleep 0.6', deps: ['checkout'] },
    lint: { run: 'echo "0 problems"; sleep 0.5', deps: ['install'] },
    typecheck: { run: 'echo "tsc: no errors"; sleep 0.5', deps: ['install'] },
    docs: { run: 'echo "built 37 pages"; sleep 0.4', deps: ['checkout'] },
    build: { run: 'echo "built target $MESHRUN_SHARD of $MESHRUN_SHARDS"; sleep 0.5', deps: ['install'], shards: 3 },
    test: {
      run: 'echo "suite $MESHRUN_SHARD/$MESHRUN_SHARDS: 48 passed"; echo "slow test warning" >&2; sleep 0.3',
      deps: ['build'],
      shards: 12,
    },
    package: { run: 'echo "wrote meshrun-0.1.0.tgz"; sleep 0.4', deps: ['build', 'lint', 'typecheck'] },
    report: { run: 'echo "tests: 576 passed, 0 failed"; echo "coverage: 91.4%"', deps: ['test', 'package', 'docs'] },
    publish: { run: 'echo "published to the staging registry"; sleep 0.2', deps: ['report'] },
  },
};

/** A second job that fails, so the jobs list shows more than success. */
const FAILING_DAG: Dag = {
  name: 'deploy-staging',
  defaults: { retries: 0 },
  tasks: {
    migrate: { run: 'echo "applying 0042_add_index"; echo "error: relation \\"jobs\\" is locked" >&2; exit 3' },
    deploy: { run: 'echo deploy', deps: ['migrate'] },
  },
};

/** The little of the DOM the in-page checks use. */
interface PageDocument {
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
}
interface PageElement {
  readonly dataset: Record<string, string | undefined>;
}

describe('dashboard in Chromium', () => {
  if (!haveChromium('dashboard')) return;

  const procs = new Processes();
  let node: NodeProcess;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[] = [];
  let consoleErrors: string[] = [];

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the type of the body it expects
  async function api<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${node.apiUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  beforeAll(async () => {
    node = await procs.start({ name: 'dash', token: TOKEN, extra: ['--slots', '2'] });
    ({ context, page, pageErrors, consoleErrors } = await openBrowser(procs.tempDir('meshrun-chromium-')));
  }, 90_000);

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have failed before setting it
    await context?.close().catch(() => undefined);
    await procs.cleanup();
  });

  it('asks for the token, follows a sharded DAG live until every task succeeded, and shows a task', async () => {
    const failing = await api<{ id: string }>('/v1/jobs', FAILING_DAG);
    expect(failing.status).toBe(201);
    const submitted = await api<{ id: string }>('/v1/jobs', DAG);
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;

    await page.goto(`${node.apiUrl}/#/jobs/${id}`);
    // The static page loaded without the token; the API calls need it.
    const form = page.locator('#token-form');
    await form.waitFor({ state: 'visible', timeout: 15_000 });
    await form.locator('input[name=token]').fill(TOKEN);
    await form.locator('button[type=submit]').click();
    await page.locator(`svg.graph[data-graph="${id}"][data-ready]`).waitFor({ timeout: 15_000 });
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('meshrun.token'),
      ),
    ).toBe(TOKEN);

    // While it runs (best effort: it may be done already on a fast machine).
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-running.png'), fullPage: true });

    // Every task of the graph succeeded: single tasks and chips carry data-state, the 12-shard
    // box carries the aggregate and its counts.
    const seen = await page
      .waitForFunction(
        () => {
          // Runs in the page; the test's TypeScript has no DOM types, so it names what it uses.
          const doc = (globalThis as unknown as { document: PageDocument }).document;
          const tasks = [...doc.querySelectorAll('svg.graph [data-task]')];
          const groups = [...doc.querySelectorAll('svg.graph .node.group')];
          const all = [...tasks, ...groups];
          if (all.length === 0 || !all.every((e) => e.dataset['state'] === 'succeeded')) return false;
          const grouped = groups.reduce((n, g) => n + Number(g.dataset['shards']), 0);
          return { tasks: tasks.length, grouped, groups: groups.length, edges: doc.querySelectorAll('svg.graph .edge').length };
        },
        undefined,
        { timeout: JOB_MS, polling: 250 },
      )
      .then((h) => h.jsonValue() as Promise<{ tasks: number; grouped: number; groups: number; edges: number }>)
      .catch(async (err: unknown) => {
        const job = await api<JobDetail>(`/v1/jobs/${id}`);
        throw new Error(
          `the page did not show every task succeeded within ${JOB_MS} ms: ${(err as Error).message}\njob: ${JSON.stringify(job.body.counts)}\n${procs.logs()}`,
        );
      });
    // 10 single tasks + 3 chips drawn one by one, 12 shards in one box; 23 tasks in all.
    expect(seen).toMatchObject({ tasks: 11, grouped: 12, groups: 1 });
    expect(seen.edges).toBeGreaterThanOrEqual(12);
    const job = await eventually('the job to succeed in the API', async () => {
      const j = await api<JobDetail>(`/v1/jobs/${id}`);
      return j.body.state === 'succeeded' ? j.body : undefined;
    });
    expect(job.counts.succeeded).toBe(23);
    await expect.poll(() => page.locator('.titlerow .badge').getAttribute('data-state'), { timeout: 5000 }).toBe('succeeded');

    // The 12-shard box opens the shard grid; a shard opens its details.
    await page.locator('svg.graph .node.group[data-spec="test"]').click();
    await page.locator('[data-panel-spec="test"] .hchip').first().waitFor();
    expect(await page.locator('[data-panel-spec="test"] .hchip[data-state="succeeded"]').count()).toBe(12);
    await page.locator('[data-panel-spec="test"] .hchip[data-task="test[7]"]').click();
    const shard = page.locator('[data-panel-task="test[7]"]');
    await shard.waitFor();
    await expect.poll(() => shard.locator('pre').first().textContent()).toContain('suite 7/12: 48 passed');

    // A single task: attempt, node, exit code, output tail, a link to its log.
    await page.locator('svg.graph [data-task="report"]').click();
    const panel = page.locator('[data-panel-task="report"]');
    await panel.waitFor();
    const text = (await panel.textContent()) ?? '';
    expect(text).toContain('tests: 576 passed, 0 failed');
    expect(text).toMatch(/Exit code\s*0/);
    expect(text).toMatch(/Attempt\s*1/);
    expect(await panel.locator('a', { hasText: 'full log' }).getAttribute('href')).toBe(`/v1/jobs/${id}/tasks/report/log`);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    // With a token the log link fetches the log itself (a plain link could not send the token).
    const [logTab] = await Promise.all([
      context.waitForEvent('page', { timeout: 10_000 }),
      panel.locator('a', { hasText: 'full log' }).click(),
    ]);
    await expect
      .poll(
        async () =>
          (await logTab
            .locator('body')
            .textContent()
            .catch(() => '')) ?? '',
        { timeout: 10_000 },
      )
      .toContain('tests: 576 passed, 0 failed');
    await logTab.close();

    // The jobs list: both jobs, with their states and progress.
    await page.goto(`${node.apiUrl}/#/`);
    await page.locator(`tr[data-job="${id}"][data-state="succeeded"]`).waitFor({ timeout: 10_000 });
    await page.locator(`tr[data-job="${failing.body.id}"][data-state="failed"]`).waitFor({ timeout: 20_000 });
    await page.locator(`#nodes tr[data-node="${node.id}"]`).waitFor({ timeout: 10_000 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-jobs.png'), fullPage: true });

    // The failed job's graph: red and striped.
    await page.locator(`tr[data-job="${failing.body.id}"] a`).click();
    await page.locator('svg.graph [data-task="migrate"][data-state="failed"]').waitFor({ timeout: 10_000 });
    await page.locator('svg.graph [data-task="deploy"][data-state="skipped"]').waitFor({ timeout: 10_000 });
    await page.locator('svg.graph [data-task="migrate"]').click();
    await page.locator('[data-panel-task="migrate"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-failed.png'), fullPage: true });

    // A phone-sized window still works.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${node.apiUrl}/#/jobs/${id}`);
    await page.locator(`svg.graph[data-graph="${id}"][data-ready]`).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-narrow.png'), fullPage: true });

    expect(pageErrors).toEqual([]);
    // Failed loads of optional endpoints (404 before they exist) are expected; anything else is not (CSP violations among them).
    expect(consoleErrors.filter((m) => !/Failed to load resource: the server responded with a status of (404|401)/.test(m))).toEqual([]);
  }, 150_000);
});
