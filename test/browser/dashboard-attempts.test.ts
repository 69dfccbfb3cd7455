// The dashboard's task panel in a real browser against a real node: after a job whose `load`
// failed is re-run (docs/dag-file.md §13) and succeeds, the panel lists both attempts (node,
// start, end, exit, outcome, reason) and shows the output the task handed its dependents.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/scheduler/types.js';
import { apiFetch, eventually, Processes, type NodeProcess } from '../process/spawn.js';
import { ARTIFACTS, haveChromium, openBrowser } from './chromium.js';

describe('dashboard task panel: attempts and output, in Chromium', () => {
  if (!haveChromium('dashboard attempts')) return;

  const procs = new Processes();
  let node: NodeProcess;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[] = [];
  let consoleErrors: string[] = [];

  beforeAll(async () => {
    node = await procs.start({ name: 'attempts', extra: ['--slots', '2'] });
    ({ context, page, pageErrors, consoleErrors } = await openBrowser(procs.tempDir('meshrun-chromium-')));
  }, 90_000);

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have failed before setting it
    await context?.close().catch(() => undefined);
    await procs.cleanup();
  });

  const ended = (id: string) =>
    eventually(`job ${id} to end`, async () => {
      const j = (await (await apiFetch(node, `/v1/jobs/${id}`)).json()) as JobView;
      return j.state === 'running' ? undefined : j;
    });

  it('lists a re-run task’s two attempts and its output', async () => {
    const flag = join(procs.tempDir('meshrun-flag-'), 'ready');
    const dag = {
      name: 'flaky-load',
      tasks: {
        load: { run: `test -f '${flag}' || { echo "no input yet" >&2; exit 4; }; printf 'rows=3' > "$MESHRUN_OUTPUT"` },
        report: { run: 'cat "$MESHRUN_INPUTS"', deps: ['load'] },
      },
    };
    const submitted = await apiFetch(node, '/v1/jobs', { method: 'POST', body: dag });
    expect(submitted.status).toBe(201);
    const { id } = (await submitted.json()) as { id: string };
    expect((await ended(id)).state).toBe('failed');
    writeFileSync(flag, '');
    const rerun = await apiFetch(node, `/v1/jobs/${id}/rerun`, { method: 'POST', body: { failed: true } });
    expect(rerun.status).toBe(200);
    expect((await ended(id)).state).toBe('succeeded');

    await page.goto(`${node.apiUrl}/#/jobs/${id}`);
    await page.locator(`svg.graph[data-graph="${id}"][data-ready]`).waitFor({ timeout: 15_000 });
    await page.locator('svg.graph [data-task="load"][data-state="succeeded"]').click();
    const panel = page.locator('[data-panel-task="load"]');
    await panel.waitFor();
    const rows = panel.locator('.attempt-list li');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    const field = (i: number, f: string) => rows.nth(i).locator(`[data-field="${f}"]`);
    const fields = async (i: number) =>
      Promise.all(['attempt', 'outcome', 'node', 'exit'].map(async (f) => ((await field(i, f).textContent()) ?? '').trim()));
    const short = `…${node.id.slice(-6)}`;
    expect(await fields(0)).toEqual(['#1', 'failed', short, 'exit 4']);
    expect(await fields(1)).toEqual(['#2', 'succeeded', short, 'exit 0']);
    expect(await field(0, 'node').getAttribute('title')).toBe(`${node.id} (this node)`);
    expect(await field(0, 'when').textContent()).toMatch(/^\S.* → \S/);
    expect(await panel.locator('[data-output="some"] pre').textContent()).toBe('rows=3');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-attempts.png'), fullPage: true });

    // A task that handed nothing on says so.
    await page.locator('svg.graph [data-task="report"]').click();
    await page.locator('[data-panel-task="report"] [data-output="none"]').waitFor({ timeout: 10_000 });
    expect(pageErrors).toEqual([]);
    expect(consoleErrors.filter((m) => !/Failed to load resource: the server responded with a status of (404|401)/.test(m))).toEqual([]);
  }, 150_000);
});
