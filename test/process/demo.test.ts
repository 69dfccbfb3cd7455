// `meshrun demo`: three real node processes run examples/etl.yaml. With --exit the demo ends with
// the job (exit 0), and no node process or temporary directory is left; a SIGINT mid-job stops the
// nodes by PID and removes the directory too.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { demoNodeEnv } from '../../src/cli/demo-command.js';
import { eventually, Processes, type RawProcess } from './spawn.js';

const procs = new Processes();
/** Node PIDs the demo printed: killed here if a test fails before the demo stopped them. */
let nodePids: number[] = [];
afterEach(async () => {
  for (const pid of nodePids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  nodePids = [];
  await procs.cleanup();
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pidsOf(out: string): number[] {
  return [...out.matchAll(/^node \d+ {2}pid (\d+) {2}api /gm)].map((m) => Number(m[1]));
}

async function exitOf(p: RawProcess, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const e = await Promise.race([
    p.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`demo did not exit within ${ms} ms; stdout:\n${p.stdout()}\nstderr:\n${p.stderr()}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
  return e.code;
}

describe('demoNodeEnv', () => {
  it("keeps a MESHRUN_TOKEN exported for the client commands from the demo's nodes, which would take it as their API token", () => {
    expect(demoNodeEnv({ PATH: '/bin', MESHRUN_TOKEN: 'sesame', MESHRUN_LOG_FORMAT: 'json' })).toEqual({
      PATH: '/bin',
      MESHRUN_LOG_FORMAT: 'json',
    });
  });
});

describe('meshrun demo', { concurrent: false }, () => {
  it('--exit: forms a 3-voter cluster, runs the ETL (the flaky step retried) to success, exits 0, leaves nothing behind', async () => {
    const demo = procs.spawn('demo', ['demo', '--exit']);
    const code = await exitOf(demo, 150_000);
    const out = demo.stdout();
    nodePids = pidsOf(out);
    expect(code, `${out}\n${demo.stderr()}`).toBe(0);
    expect(nodePids).toHaveLength(3);
    expect(out).toMatch(/cluster ready: 3 voters, leader \S+/);
    const api = /^node 1 {2}pid \d+ {2}api (http:\/\/127\.0\.0\.1:\d+)/m.exec(out)?.[1];
    expect(api).toBeDefined();
    expect(out).toContain(`dashboard  ${api}/\n`);
    const id = new RegExp(`^job +([a-z0-9-]+) +${api?.replace(/\./g, '\\.')}/#/jobs/\\1 `, 'm').exec(out)?.[1];
    expect(id, out).toBeDefined();
    // Plain progress lines (stdout is a pipe), the final table, the outcome.
    expect(out).toMatch(/^succeeded 11\/11 {2}11 succeeded/m);
    expect(out).toMatch(/\nfetch-rates +succeeded +\S+ +2 +/);
    expect(out).toMatch(/\nreport +succeeded /);
    expect(out).toContain(`job ${id} succeeded\n`);
    const dir = /temporary data in (\S+)\)/.exec(out)?.[1] as string;
    expect(out).toContain(`stopped 3 node(s) and removed ${dir}`);
    expect(existsSync(dir)).toBe(false);
    for (const pid of nodePids) expect(isAlive(pid), `node pid ${pid} still running`).toBe(false);
  });

  it('SIGINT while the job runs stops all three nodes by PID and removes the temporary directory', async () => {
    const demo = procs.spawn('demo', ['demo']);
    await eventually('the demo to submit its job', async () => (/^job +\S+ +http/m.test(demo.stdout()) ? true : undefined), 90_000, 100);
    nodePids = pidsOf(demo.stdout());
    expect(nodePids).toHaveLength(3);
    process.kill(demo.pid, 'SIGINT');
    const code = await exitOf(demo, 60_000);
    const out = demo.stdout();
    // Interrupted before the job ended: the demo did not see it succeed.
    expect(code, `${out}\n${demo.stderr()}`).toBe(1);
    expect(out).toContain('SIGINT: stopping the cluster');
    const dir = /temporary data in (\S+)\)/.exec(out)?.[1] as string;
    expect(out).toContain(`stopped 3 node(s) and removed ${dir}`);
    expect(existsSync(dir)).toBe(false);
    for (const pid of nodePids) expect(isAlive(pid), `node pid ${pid} still running`).toBe(false);
  });
});
