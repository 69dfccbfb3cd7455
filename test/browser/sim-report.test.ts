// The `meshrun sim --report` page in a real browser (Debian's Chromium, driven by playwright-core):
// the minority-partition scenario's report, opened from a file with no network, draws its SVG (a
// lane per node, execution bars), shows an event's text when hovering a bar, and fetches nothing.
// The screenshot goes to test/artifacts/sim-report.png (git-ignored) for a human to look at.
//
// Without /usr/bin/chromium the test is skipped with a message saying how to install it, except
// under CI=true, where a missing browser is a failure.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../sim/scenario/html-report.js';
import { readScenarioFile } from '../../sim/scenario/scenario-file.js';
import { runScenario } from '../../sim/scenario/scenario-run.js';
import { ARTIFACTS, haveChromium, openBrowser } from './chromium.js';

const SCENARIO = resolve(import.meta.dirname, '../../examples/scenarios/minority-partition.yaml');

describe('sim report in Chromium', () => {
  if (!haveChromium('sim report')) return;

  let dir: string;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[] = [];
  let consoleErrors: string[] = [];
  /** Anything the page asks for besides its own file. */
  const requests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshrun-sim-report-'));
    ({ context, page, pageErrors, consoleErrors } = await openBrowser(join(dir, 'profile')));
    page.on('request', (req) => {
      if (!req.url().startsWith('file://')) requests.push(req.url());
    });
  }, 90_000);

  afterAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have failed before setting it
    await context?.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws the minority-partition run: lanes, bars, faults, leader terms, and a tooltip on hover', async () => {
    const result = runScenario(readScenarioFile(SCENARIO), 1);
    expect(result.ok).toBe(true);
    const file = join(dir, 'minority-partition.html');
    writeFileSync(file, renderHtmlReport(result));
    await page.goto(pathToFileURL(file).href);

    const svg = page.locator('svg.timeline');
    await svg.waitFor({ state: 'visible', timeout: 10_000 });
    const box = await svg.boundingBox();
    expect(box?.width).toBeGreaterThan(800);
    expect(box?.height).toBeGreaterThan(200);
    await expect.poll(() => page.locator('[data-verdict="ok"]').textContent()).toContain('every invariant held');

    // A lane per node, each drawn with a height.
    const lanes = page.locator('svg.timeline [data-lane]');
    expect(await lanes.count()).toBe(5);
    for (let i = 0; i < 5; i++) expect((await lanes.nth(i).boundingBox())?.height).toBeGreaterThan(20);

    // One bar per execution (14 runs in this scenario), every one of them visible.
    const bars = page.locator('svg.timeline [data-exec] rect');
    expect(await bars.count()).toBe(result.stats.runs);
    for (let i = 0; i < (await bars.count()); i++) {
      const b = await bars.nth(i).boundingBox();
      expect(b?.width).toBeGreaterThan(1);
      expect(b?.height).toBeGreaterThan(5);
    }
    // The two extracts n4 ran in the minority finished, but their results were never committed.
    expect(await page.locator('svg.timeline [data-lane="n4"] .exec.lost').count()).toBe(2);
    expect(await page.locator('svg.timeline [data-leader]').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('svg.timeline [data-fault]').count()).toBe(1);
    expect((await page.locator('svg.timeline [data-fault] rect').boundingBox())?.width).toBeGreaterThan(100);

    // Hovering a bar shows its start and end in the tooltip.
    const tip = page.locator('#tip');
    expect(await tip.isVisible()).toBe(false);
    await page.locator('svg.timeline [data-lane="n5"] [data-exec]').first().hover();
    await tip.waitFor({ state: 'visible', timeout: 5000 });
    const text = (await tip.textContent()) ?? '';
    expect(text).toContain('starts');
    expect(text).toContain('attempt');
    expect(text).toMatch(/n5 starts demo-etl\/extract\[\d\] attempt 1/);
    const tipBox = await tip.boundingBox();
    expect(tipBox?.width).toBeGreaterThan(100);
    await page.screenshot({ path: join(ARTIFACTS, 'sim-report.png'), fullPage: true });

    // Moving off the drawing hides it.
    await page.mouse.move(5, 5);
    await tip.waitFor({ state: 'hidden', timeout: 5000 });

    expect(await page.locator('h3[data-job="demo-etl"]').textContent()).toContain('succeeded');
    expect(requests).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
