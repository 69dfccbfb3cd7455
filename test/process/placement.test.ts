// Placement labels and pools (docs/dag-file.md §14) on three real `meshrun node` processes, one of
// them started with `--label gpu=a100`: its labels reach every node's GET /v1/nodes and `meshrun
// nodes`; tasks pinned to it run there and nowhere else; a task asking for labels no node has waits
// with that reason; and a pool of 2 over 10 tasks never has more than 2 of them running, as the
// tasks' own start and end stamps show.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../src/api/types.js';
import type { JobView, PoolView } from '../../src/scheduler/types.js';
import { checkLogsAfterEach } from './logs.js';
import { nodeGet, wholeJob } from './whole-job.js';
import { agreedView, apiFetch, eventually, Processes, runCli, type NodeProcess } from './spawn.js';

const procs = new Processes();
let nodes: NodeProcess[];
let gpu: NodeProcess;
let dir: string;

beforeAll(async () => {
  dir = procs.tempDir();
  const extra = ['--slots', '2'];
  const first = await procs.start({ name: 'n1', extra });
  gpu = await procs.start({ name: 'n2', bootstrap: [first.addr], extra: [...extra, '--label', 'gpu=a100', '--label', 'zone=eu'] });
  const third = await procs.start({ name: 'n3', bootstrap: [first.addr], extra });
  nodes = [first, gpu, third];
  await agreedView(nodes, { voters: 3, learners: 0 });
}, 90_000);
afterAll(async () => {
  await procs.cleanup();
});

const cli = (args: readonly string[]) => runCli([...args, '--api', nodes.map((n) => n.apiUrl).join(',')], { timeoutMs: 90_000 });

function dagFile(name: string, yaml: readonly string[]): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, [...yaml, ''].join('\n'));
  return f;
}

/** The whole job, read through the summary and its pages of tasks (docs/http-api.md §6). */
function jobView(id: string): Promise<JobView> {
  return wholeJob(nodeGet(nodes[0] as NodeProcess), id);
}

describe('placement and pools on real nodes', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it("a node's --label reaches every node's GET /v1/nodes and meshrun nodes", async () => {
    for (const n of nodes) {
      await eventually(
        `${n.name} to know n2's labels`,
        async () => {
          const { nodes: list } = (await (await apiFetch(n, '/v1/nodes')).json()) as { nodes: NodeInfo[] };
          const two = list.find((x) => x.id === gpu.id);
          return two !== undefined && two.labels['gpu'] === 'a100' && two.labels['zone'] === 'eu' ? true : undefined;
        },
        30_000,
      );
    }
    const r = await cli(['nodes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ LABELS /);
    expect(r.stdout).toContain('gpu=a100,zone=eu');
  }, 60_000);

  it('tasks pinned by on: run only on the node with the labels; labels no node has keep a task waiting, saying why', async () => {
    const f = dagFile('pinned', [
      'name: pinned',
      'tasks:',
      '  prep: { run: "true", shards: 4 }',
      '  train: { run: \'printf %s "$MESHRUN_NODE" > "$MESHRUN_OUTPUT"\', deps: [prep], shards: 6, on: { gpu: a100 } }',
    ]);
    const r = await cli(['submit', f, '--wait']);
    expect(r.code, r.stderr).toBe(0);
    const v = await jobView(r.stdout.split('\n')[0] as string);
    const trained = Object.entries(v.tasks).filter(([name]) => name.startsWith('train['));
    expect(trained).toHaveLength(6);
    for (const [name, t] of trained) {
      expect(t.node, name).toBe(gpu.id);
      expect(t.output, name).toBe(gpu.id);
    }

    const ghost = dagFile('ghost', ['name: ghost', 'timeout: 6s', 'tasks:', '  fit: { run: "true", on: { gpu: h100 } }']);
    const g = await cli(['submit', ghost, '--wait']);
    expect(g.code).toBe(1);
    expect(g.stdout).toContain('waiting: fit: no node has labels gpu=h100\n');
  }, 120_000);

  it('a pool of 2 over 10 tasks never has more than 2 of them running, by their own stamps', async () => {
    const missing = await cli(['pool', 'set', 'db', '10001']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('pool size must be an integer from 0 to 10,000, got 10001');
    const set = await cli(['pool', 'set', 'db', '2']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('pool db: size 2, 0 in use\n');

    const stamps = procs.tempDir();
    const f = dagFile('pooled', [
      'name: pooled',
      'tasks:',
      // Each writes when it started and ended, in ns, into a file of its own: the pool's record of use.
      `  query: { run: 's=$(date +%s%N); sleep 0.5; e=$(date +%s%N); echo "$s $e" > ${stamps}/$MESHRUN_SHARD', shards: 10, pool: db }`,
    ]);
    const r = await cli(['submit', f, '--wait']);
    expect(r.code, r.stderr).toBe(0);
    const spans = readdirSync(stamps).map((name) => readFileSync(join(stamps, name), 'utf8').trim().split(' ').map(BigInt));
    expect(spans).toHaveLength(10);
    // The most spans open at once: +1 at each start, -1 at each end, ends first on a tie.
    const edges = spans.flatMap(
      ([s, e]) =>
        [
          [s as bigint, 1],
          [e as bigint, -1],
        ] as [bigint, number][],
    );
    edges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    let open = 0;
    let most = 0;
    for (const [, d] of edges) most = Math.max(most, (open += d));
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBeGreaterThanOrEqual(1);

    const ls = await cli(['pool', 'ls', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect((JSON.parse(ls.stdout) as { pools: PoolView[] }).pools).toEqual([{ name: 'db', size: 2, used: 0 }]);
    const res = await apiFetch(nodes[2] as NodeProcess, '/v1/pools/db');
    expect(await res.json()).toEqual({ name: 'db', size: 2, used: 0 });
  }, 120_000);
});
