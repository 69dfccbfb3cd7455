// `npm run bench -- dashboard [--quick]` (issue 16: "the dashboard opens a 20,000-task job in < 2 s"):
// one node process holds a job of 10 levels of 2,000 distinct specs, each after one of the level
// before, whose handler no node has (so the job stays as submitted while it is measured); headless
// Chromium (Debian's, driven by playwright-core) opens the job's page right after the submit, then
// reloads it three times. The time runs from navigation to the graph drawn (the page marks its svg
// `data-ready`). `test/browser/dashboard-big-job.test.ts` checks what is drawn; this measures it.
import { performance } from 'node:perf_hooks';
import { chromiumInstalled, CHROMIUM, openBrowser } from '../test/browser/launch.js';
import { Processes } from '../test/process/spawn.js';
import { percentile, printTable, writeResults, type BenchOptions, type Row } from './report.js';

const TARGET_MS = 2_000;
const RELOADS = 3;

function layeredDag(levels: number, width: number): { name: string; tasks: Record<string, { handler: string; deps?: string[] }> } {
  const tasks: Record<string, { handler: string; deps?: string[] }> = {};
  for (let l = 0; l < levels; l++)
    for (let i = 0; i < width; i++) tasks[`l${l}_${i}`] = { handler: 'absent', ...(l > 0 ? { deps: [`l${l - 1}_${i}`] } : {}) };
  return { name: `dashboard-${levels * width}`, tasks };
}

export async function dashboardBench(o: BenchOptions = { quick: false }): Promise<void> {
  if (!chromiumInstalled()) {
    console.log(`\ndashboard: skipped, ${CHROMIUM} does not exist (apt-get install -y chromium)`);
    return;
  }
  const [levels, width] = o.quick ? [4, 500] : [10, 2_000];
  const tasks = levels * width;
  const procs = new Processes();
  try {
    const node = await procs.start({ name: 'dash' });
    const { context, page, pageErrors } = await openBrowser(procs.tempDir('meshrun-bench-chromium-'));
    try {
      const res = await fetch(`${node.apiUrl}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(layeredDag(levels, width)),
        signal: AbortSignal.timeout(120_000),
      });
      if (res.status !== 201) throw new Error(`POST /v1/jobs answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      const { id } = (await res.json()) as { id: string };
      const drawn = page.locator(`svg.graph[data-graph="${id}"][data-ready]`);
      const t0 = performance.now();
      await page.goto(`${node.apiUrl}/#/jobs/${id}`);
      await drawn.waitFor({ timeout: 120_000 });
      const firstMs = performance.now() - t0;
      const reloads: number[] = [];
      for (let i = 0; i < RELOADS; i++) {
        const t = performance.now();
        await page.reload();
        await drawn.waitFor({ timeout: 120_000 });
        reloads.push(performance.now() - t);
      }
      if (pageErrors.length > 0) throw new Error(`the page reported errors: ${pageErrors.join('; ')}`);
      const row = (view: string, ms: number): Row => ({
        view,
        tasks,
        ms: Math.round(ms),
        figure: `${Math.round(ms).toLocaleString('en-US')} ms`,
        target: `< ${TARGET_MS.toLocaleString('en-US')} ms`,
        met: ms < TARGET_MS ? 'yes' : 'NO',
      });
      const rows = [
        row(`job page, first open right after the submit (${levels} levels of ${width})`, firstMs),
        row(`job page, reload (median of ${RELOADS})`, percentile(reloads, 50)),
      ];
      printTable('dashboard: headless Chromium opening a big job on one node process, from navigation to the graph drawn', rows);
      if (!o.quick) writeResults('dashboard', rows, { levels, width, reloads });
    } finally {
      await context.close().catch(() => undefined);
    }
  } finally {
    await procs.cleanup();
  }
}
