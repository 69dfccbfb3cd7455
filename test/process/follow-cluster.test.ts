// The CLI follows the cluster, not one node (docs/cli.md §2): `submit --wait` goes on through
// another member when the node it talks to is SIGKILLed while the job runs on the others; client
// commands take several --api URLs and use the next when one is dead; and `meshrun nodes` says the
// killed node is down and since when, by the name it was given (--name).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../src/api/types.js';
import { checkLogsAfterEach } from './logs.js';
import { agreedView, apiFetch, eventually, Processes, runCli, unusedPort, type NodeProcess } from './spawn.js';

const procs = new Processes();
let nodes: NodeProcess[];
let dir: string;

beforeAll(async () => {
  dir = procs.tempDir();
  const first = await procs.start({ name: 'alpha', extra: ['--name', 'alpha', '--slots', '2'] });
  const rest = await Promise.all(
    ['beta', 'gamma'].map((name) =>
      procs.start({ name, bootstrap: [first.addr], extra: ['--name', name, '--slots', '2'], startTimeoutMs: 60_000 }),
    ),
  );
  nodes = [first, ...rest];
  await agreedView(nodes, { voters: 3, learners: 0 }, 60_000);
  // Each node's name and API address reach the others with its load gossip.
  await eventually(
    'every node to know the others by name and API address',
    async () => {
      const { nodes: known } = (await (await apiFetch(first, '/v1/nodes')).json()) as { nodes: NodeInfo[] };
      return known.length === 3 && known.every((n) => n.name !== null && n.api !== null) ? true : undefined;
    },
    30_000,
    250,
  );
}, 180_000);
afterAll(async () => {
  await procs.cleanup();
});

describe('a CLI that follows the cluster', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it('submit --wait moves on to another member when the node it talks to is SIGKILLed, and the job succeeds', async () => {
    const [alpha, beta, gamma] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const f = join(dir, 'long.yaml');
    writeFileSync(
      f,
      'name: outlives-its-node\ntasks:\n  work: { run: "sleep 3", shards: 2, retries: 1 }\n  after: { run: "true", deps: [work] }\n',
    );
    const wait = procs.spawn('submit-wait', ['submit', f, '--wait', '--api', alpha.apiUrl], { MESHRUN_PROGRESS: 'plain' });
    await eventually('the CLI to follow the job', async () => (/\nrunning /.test(wait.stdout()) ? true : undefined), 30_000, 100);
    await procs.stop(alpha, 'SIGKILL');
    const exit = await Promise.race([wait.exited, new Promise<null>((r) => setTimeout(() => r(null), 90_000))]);
    expect(exit, `stdout:\n${wait.stdout()}\nstderr:\n${wait.stderr()}`).toEqual({ code: 0, signal: null });
    expect(wait.stdout()).toMatch(/\nsucceeded +3\/3 +3 succeeded/);
    expect(wait.stderr()).toMatch(new RegExp(`meshrun: ${alpha.apiUrl} did not answer; trying (${beta.apiUrl}|${gamma.apiUrl})`));
  }, 150_000);

  it('client commands take several --api URLs (repeated or comma-separated) and use the next when one does not answer', async () => {
    const [alpha, beta, gamma] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const dead = `http://127.0.0.1:${await unusedPort()}`;
    const jobs = await runCli(['jobs', '--api', `${dead},${alpha.apiUrl}`, '--api', beta.apiUrl]);
    expect(jobs.code, jobs.stderr).toBe(0);
    expect(jobs.stdout).toMatch(/\n\S+ +outlives-its-node +succeeded +3\/3 /);
    expect(jobs.stderr).toContain(`meshrun: ${dead} did not answer; trying ${alpha.apiUrl}`);
    const viaEnv = await runCli(['cluster'], { env: { MESHRUN_API: `${alpha.apiUrl},${gamma.apiUrl}` } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toContain(`(${gamma.apiUrl})`);
    const none = await runCli(['jobs', '--api', `${dead},${alpha.apiUrl}`]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(
      /no node of the cluster could answer: cannot reach the meshrun API at .*; cannot reach the meshrun API at /,
    );
  });

  it('meshrun nodes says the killed node is down and since when, by its name; status names nodes too', async () => {
    const [alpha, beta] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const down = await eventually(
      'alpha to be seen down',
      async () => {
        const { nodes: known } = (await (await apiFetch(beta, '/v1/nodes')).json()) as { nodes: NodeInfo[] };
        const a = known.find((n) => n.id === alpha.id);
        return a?.state === 'down' ? a : undefined;
      },
      20_000,
      250,
    );
    expect(down).toMatchObject({ name: 'alpha', role: expect.stringMatching(/voter|leader/) });
    expect(typeof down.downSince).toBe('number');
    const r = await runCli(['nodes', '--api', beta.apiUrl]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `\\nalpha +${alpha.id.slice(-8)} +voter +down since \\d\\d:\\d\\d:\\d\\d UTC +-/2 +- +- +\\S+ +\\S+ +\\S+( \\S+)? +\\d+(\\.\\d)?s ago\\n`,
      ),
    );
    expect(r.stdout).toMatch(/\nbeta \* +\S{8} +(leader|voter) +up +\d\/2 +\d /);
    expect(r.stdout).toMatch(/\ngamma +\S{8} +(leader|voter) +up +\d\/2 +\d /);

    const { jobs } = (await (await apiFetch(beta, '/v1/jobs')).json()) as { jobs: { id: string; name: string }[] };
    const id = jobs.find((j) => j.name === 'outlives-its-node')?.id as string;
    const s = await runCli(['status', id, '--api', beta.apiUrl]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/\nafter +succeeded +(alpha|beta|gamma) +1 /);
  }, 60_000);
});
