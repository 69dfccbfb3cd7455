// The dashboard's graph drawn for people to read (issue 17, item 13), in Chromium against a real
// node: a long task name never runs into the shard count beside it or out of its box, a skip
// reason is readable in full (the task's tooltip and its panel), and the graph keeps one direction
// whatever happens around it (live updates, reloads, another window height, an open panel). And
// what the dashboard's type check found: a node without a heartbeat showed "null running".
//
// Without /usr/bin/chromium the test is skipped with a message saying how to install it, except
// under CI=true, where a missing browser is a failure.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSummary, JobView } from '../../src/scheduler/types.js';
import { fetchGet, wholeJob } from '../process/whole-job.js';
import { eventually, Processes, type NodeProcess } from '../process/spawn.js';
import { ARTIFACTS, haveChromium, openBrowser, type Browser } from './chromium.js';

const LONG = 'aggregate-daily-revenue-by-region';
const FAILING = 'validate-partner-feed-schema-v2';

/** Long names beside shard counts, and a failure whose skip reason is long. */
const NAMES_DAG = {
  name: 'long-names',
  defaults: { retries: 0 },
  tasks: {
    fetch: { run: 'true' },
    'aggregate-daily': { run: 'true', deps: ['fetch'], shards: 3 },
    [LONG]: { run: 'true', deps: ['fetch'], shards: 3 },
    [`${LONG}-totals`]: { run: 'true', deps: ['fetch'], shards: 12 },
    [FAILING]: { run: 'exit 1', deps: ['fetch'] },
    'publish-report': { run: 'true', deps: [FAILING, 'aggregate-daily'] },
  },
};

/** A chain long enough that the two directions score close: where the old rule flipped with the window's height. */
const CHAIN = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'];
const CHAIN_DAG = {
  name: 'chain',
  tasks: Object.fromEntries(CHAIN.map((n, i) => [n, { run: 'sleep 0.3', ...(i > 0 ? { deps: [CHAIN[i - 1]] } : {}) }])),
};

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function overlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Within `outer`, half a pixel of rounding allowed. */
function inside(inner: Box, outer: Box): boolean {
  return (
    inner.x >= outer.x - 0.5 &&
    inner.y >= outer.y - 0.5 &&
    inner.x + inner.width <= outer.x + outer.width + 0.5 &&
    inner.y + inner.height <= outer.y + outer.height + 0.5
  );
}

async function box(page: Page, selector: string): Promise<Box> {
  const b = await page.locator(selector).boundingBox();
  if (b === null) throw new Error(`${selector} is not displayed`);
  return b;
}

describe('dashboard graph layout in Chromium', () => {
  if (!haveChromium('dashboard layout')) return;

  const procs = new Processes();
  let node: NodeProcess;
  let browser: Browser;

  async function submit(dag: unknown): Promise<string> {
    const res = await fetch(`${node.apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(dag),
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  async function finished(id: string): Promise<JobView> {
    return eventually(
      `job ${id} to end`,
      async () => {
        const j = (await (await fetch(`${node.apiUrl}/v1/jobs/${id}`)).json()) as JobSummary;
        return j.state === 'running' ? undefined : wholeJob(fetchGet(node.apiUrl), id);
      },
      60_000,
      200,
    );
  }

  async function openJob(id: string): Promise<void> {
    await browser.page.goto(`${node.apiUrl}/#/jobs/${id}`);
    await browser.page.locator(`svg.graph[data-graph="${id}"][data-ready]`).waitFor({ timeout: 15_000 });
  }

  /** The chain's direction as drawn: where s2 sits from s1. */
  async function direction(page: Page): Promise<'LR' | 'TB'> {
    const a = await box(page, 'svg.graph [data-task="s1"]');
    const b = await box(page, 'svg.graph [data-task="s2"]');
    return Math.abs(b.x - a.x) > Math.abs(b.y - a.y) ? 'LR' : 'TB';
  }

  beforeAll(async () => {
    node = await procs.start({ name: 'layout', extra: ['--slots', '4'] });
    browser = await openBrowser(procs.tempDir('meshrun-chromium-'));
  }, 90_000);

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have failed before setting it
    await browser?.context.close().catch(() => undefined);
    await procs.cleanup();
  });

  it('a long task name stays clear of the shard count and inside its box', async () => {
    const id = await submit(NAMES_DAG);
    await finished(id);
    await openJob(id);
    const { page } = browser;
    await page.locator(`svg.graph [data-spec="${FAILING}"][data-state="failed"]`).waitFor({ timeout: 10_000 });
    for (const spec of ['aggregate-daily', LONG]) {
      const node = `svg.graph .node.shards[data-spec="${spec}"]`;
      await expect.poll(() => page.locator(`${node} .sub.end`).textContent()).toBe('3/3');
      const frame = await box(page, `${node} .frame`);
      const name = await box(page, `${node} .name`);
      const count = await box(page, `${node} .sub.end`);
      expect(overlap(name, count), `${spec}: the name ${JSON.stringify(name)} runs into the count ${JSON.stringify(count)}`).toBe(false);
      expect(inside(name, frame), `${spec}: the name leaves its box`).toBe(true);
      expect(inside(count, frame), `${spec}: the count leaves its box`).toBe(true);
      // The full name is one hover away.
      expect(await page.locator(`${node} > title`).textContent()).toContain(spec);
    }
    const group = `svg.graph .node.group[data-spec="${LONG}-totals"]`;
    expect(overlap(await box(page, `${group} .name`), await box(page, `${group} .sub.end`)), 'the 12-shard box: name and percentage').toBe(
      false,
    );
    const single = `svg.graph .node.task[data-spec="${FAILING}"]`;
    expect(inside(await box(page, `${single} .name`), await box(page, `${single} .box`)), 'a single task: the name leaves its box').toBe(
      true,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-long-names.png'), fullPage: true });
  }, 120_000);

  it('a skip reason is readable in full: on the task in the graph and in its panel', async () => {
    const id = await submit({ ...NAMES_DAG, name: 'long-reason' });
    const job = await finished(id);
    const reason = `upstream failed: ${FAILING}`;
    expect(job.tasks['publish-report']).toMatchObject({ state: 'skipped', reason });
    await openJob(id);
    const { page } = browser;
    const task = 'svg.graph [data-task="publish-report"]';
    await page.locator(`${task}[data-state="skipped"]`).waitFor({ timeout: 10_000 });
    // The line in the box is short of room; the tooltip says it all.
    expect(await page.locator(`${task} > title`).textContent()).toContain(reason);

    await page.locator(task).click();
    const panel = page.locator('[data-panel-task="publish-report"]');
    await panel.waitFor();
    const shown = panel.getByText(reason, { exact: false });
    await shown.waitFor();
    // Wrapped, not clipped: nothing of it hidden, and all of it inside the panel.
    const clipped = await shown.evaluate(
      (el: { scrollWidth: number; clientWidth: number; scrollHeight: number; clientHeight: number }) =>
        el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1,
    );
    expect(clipped, 'the reason in the panel is clipped').toBe(false);
    const at = await shown.boundingBox();
    expect(at !== null && inside(at, await box(page, 'aside.panel')), 'the reason leaves the panel').toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-skip-reason.png'), fullPage: true });
  }, 120_000);

  it("the nodes table says nothing of running tasks for a node without a heartbeat (the API's null)", async () => {
    const { page } = browser;
    await page.goto(`${node.apiUrl}/#/`);
    await page.locator(`#nodes tr[data-node="${node.id}"]`).waitFor({ timeout: 10_000 });
    // The page's own module, fed a node as GET /v1/nodes reports one the scheduler has no heartbeat
    // of. A string, so that vitest leaves its import() alone: it runs in the page.
    const silent = {
      id: '12D3KooWSilent',
      name: 'silent',
      state: 'up',
      downSince: null,
      api: null,
      logBytes: null,
      role: 'learner',
      self: false,
      addresses: [],
      slots: 2,
      used: null,
      free: null,
      running: null,
      handlers: [],
      heartbeatSeq: null,
      leaseUntil: null,
      leaseMs: null,
      lastSeen: null,
      applied: null,
    };
    const text = await page.evaluate<string>(
      `import('/assets/views.js').then((v) => v.nodesTable([${JSON.stringify(silent)}], null).textContent)`,
    );
    expect(text).toContain('0/2 slots');
    expect(text).not.toContain('null');
  }, 60_000);

  it('keeps one direction through live updates, reloads, another window height and an open panel', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    const id = await submit(CHAIN_DAG);
    await openJob(id);
    const first = await direction(page);
    // Live: several updates while the chain runs, one task after another.
    const seen: string[] = [];
    for (const n of CHAIN.slice(0, 5)) {
      await page.locator(`svg.graph [data-task="${n}"][data-state="succeeded"]`).waitFor({ timeout: 30_000 });
      seen.push(await direction(page));
    }
    expect(seen).toEqual(seen.map(() => first));
    await finished(id);

    const again = async (what: string): Promise<void> => {
      await openJob(id);
      expect(await direction(page), `after ${what}`).toBe(first);
    };
    await page.reload();
    await again('a reload');
    await page.goto(`${node.apiUrl}/#/`);
    await page.locator(`tr[data-job="${id}"]`).waitFor({ timeout: 10_000 });
    await again('the jobs list and back');
    await page.setViewportSize({ width: 1440, height: 640 });
    await page.reload();
    await again('a reload in a shorter window');
    await page.locator('svg.graph [data-task="s3"]').click();
    await page.locator('[data-panel-task="s3"]').waitFor();
    expect(await direction(page), 'with a task panel open').toBe(first);
    await page.setViewportSize({ width: 1300, height: 1000 });
    await page.reload();
    await again('a reload in a narrower, taller window');
    expect(browser.pageErrors).toEqual([]);
  }, 120_000);
});
