// The dashboard's schedules card in a real browser against a real node: a schedule every second
// shows its cadence, its next tick and its recent runs, and a run links to its job's page.
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch, Processes, type NodeProcess } from '../process/spawn.js';
import { ARTIFACTS, haveChromium, openBrowser } from './chromium.js';

const SCHEDULE = {
  name: 'every-second',
  every: '1s',
  overlap: 'forbid',
  dag: { name: 'tick', retention: '5m', tasks: { hello: { run: 'echo "$MESHRUN_TICK"' } } },
};

describe('dashboard schedules card in Chromium', () => {
  if (!haveChromium('dashboard schedules')) return;

  const procs = new Processes();
  let node: NodeProcess;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[] = [];
  let consoleErrors: string[] = [];

  beforeAll(async () => {
    node = await procs.start({ name: 'sched' });
    ({ context, page, pageErrors, consoleErrors } = await openBrowser(procs.tempDir('meshrun-chromium-')));
  }, 90_000);

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have failed before setting it
    await context?.close().catch(() => undefined);
    await procs.cleanup();
  });

  it('lists the schedule with its next tick and runs, and a run opens its job', async () => {
    const res = await apiFetch(node, '/v1/schedules', { method: 'POST', body: SCHEDULE });
    expect(res.status).toBe(201);
    await page.goto(`${node.apiUrl}/#/`);
    const row = page.locator('#schedules tr[data-schedule="every-second"]');
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('every 1s');
    await row.locator('.schedule-runs li a').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-schedules.png'), fullPage: true });
    // Runs come in every second (newest first, the card redrawn): click whichever is there, then
    // check the page it opened is a run of this schedule.
    await row.locator('.schedule-runs li a').first().click();
    await page.waitForURL(/#\/jobs\/[0-9a-f]{12}$/, { timeout: 10_000 });
    const job = /#\/jobs\/([0-9a-f]{12})$/.exec(page.url())?.[1] ?? '';
    const view = (await (await apiFetch(node, `/v1/jobs/${job}`)).json()) as { schedule?: string; tick?: number };
    expect(view.schedule).toBe('every-second');
    expect(typeof view.tick).toBe('number');
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
