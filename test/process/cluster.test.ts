// Real `meshrun node` processes on 127.0.0.1: cluster formation, failover, restart, learners,
// graceful leave and the swarm key. Every wait is on a condition with a deadline.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSwarmKey } from '../../src/net/swarm-key.js';
import { checkLogsAfterEach } from './logs.js';
import { agreedView, eventually, getCluster, probe, probes, Processes, runCli, type NodeProcess } from './spawn.js';

const procs = new Processes();

afterEach(async () => {
  await procs.cleanup();
});

/** Starts `n` nodes, the others joining through the first one's address, and waits until all agree. */
async function formCluster(n: number, opts: { voters?: number; extra?: readonly string[] } = {}): Promise<NodeProcess[]> {
  const first = await procs.start({ name: 'n1', ...opts });
  const rest = await Promise.all(
    Array.from({ length: n - 1 }, (_, k) => procs.start({ name: `n${k + 2}`, bootstrap: [first.addr], ...opts })),
  );
  const nodes = [first, ...rest];
  const voters = Math.min(n, opts.voters ?? 3);
  await agreedView(nodes, { voters, learners: n - voters });
  return nodes;
}

async function leaderOf(nodes: readonly NodeProcess[]): Promise<NodeProcess> {
  const view = await getCluster(nodes[0] as NodeProcess);
  const leader = nodes.find((n) => n.id === view.leader);
  if (!leader) throw new Error(`leader ${String(view.leader)} is not among the nodes`);
  return leader;
}

/** Waits until every node has applied exactly the probe values `want`, in order. */
async function probesEverywhere(nodes: readonly NodeProcess[], want: readonly string[]): Promise<void> {
  await eventually(`${want.length} probes applied on ${nodes.length} nodes`, async () => {
    const lists = await Promise.all(nodes.map(probes));
    return lists.every((l) => JSON.stringify(l) === JSON.stringify(want)) ? true : undefined;
  });
}

describe('meshrun node processes on 127.0.0.1', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it("three nodes form a cluster through the first one's address, agree on one leader, and apply a proposal made on any node", async () => {
    const nodes = await formCluster(3);
    const views = await Promise.all(nodes.map(getCluster));
    const ids = nodes.map((n) => n.id).sort();
    for (const v of views) {
      expect([...v.voters].sort()).toEqual(ids);
      expect(v.learners).toEqual([]);
    }
    expect(views.filter((v) => v.role === 'leader')).toHaveLength(1);
    expect(views.filter((v) => v.role === 'follower')).toHaveLength(2);

    // A proposal through a follower (forwarded inside Raft) and one through the leader.
    const leader = nodes.find((n) => n.id === views[0]?.leader) as NodeProcess;
    const follower = nodes.find((n) => n !== leader) as NodeProcess;
    const viaFollower = await probe(follower, 'via-follower');
    expect(viaFollower.status).toBe(200);
    const viaLeader = await probe(leader, 'via-leader');
    expect(viaLeader.status).toBe(200);
    expect(viaLeader.body.index).toBeGreaterThan(viaFollower.body.index as number);
    await probesEverywhere(nodes, ['via-follower', 'via-leader']);

    // The CLI reads the same status.
    const text = await runCli(['cluster', '--api', follower.apiUrl]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`leader    ${leader.id}`);
    expect(text.stdout).toContain('voters    3');
    const json = await runCli(['cluster', '--json'], { env: { MESHRUN_API: leader.apiUrl } });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ self: leader.id, role: 'leader', leader: leader.id });
  });

  it('elects a new leader when the leader is killed, and the old one rejoins as the same member from a snapshot', async () => {
    // Small snapshots so that the probes below push the log past the restarted node's position.
    const nodes = await formCluster(3, { extra: ['--snapshot-every', '20'] });
    const old = await leaderOf(nodes);
    const term = (await getCluster(old)).term;
    await procs.stop(old, 'SIGKILL');
    const survivors = nodes.filter((n) => n !== old);
    const views = await eventually('a new leader among the survivors', async () => {
      const vs = await Promise.all(survivors.map(getCluster));
      const l = vs[0]?.leader;
      return l && l !== old.id && vs.every((v) => v.leader === l) ? vs : undefined;
    });
    expect(views[0]?.term).toBeGreaterThan(term);
    const newLeader = survivors.find((n) => n.id === views[0]?.leader) as NodeProcess;

    const values = Array.from({ length: 30 }, (_, k) => `while-down-${k}`);
    for (const v of values) expect((await probe(newLeader, v)).status).toBe(200);

    // Same data directory, new port: the same member, caught up through a snapshot.
    const back = await procs.start({ name: 'n-restarted', dataDir: old.dataDir });
    expect(back.id).toBe(old.id);
    const all = [...survivors, back];
    await agreedView(all, { voters: 3, learners: 0 });
    await probesEverywhere(all, values);
    expect(back.stderr()).toContain('state restored from a snapshot');
    // Its new address was replicated: a proposal through it still reaches everyone.
    expect((await probe(back, 'after-restart')).status).toBe(200);
    await probesEverywhere(all, [...values, 'after-restart']);
  });

  it('five nodes with --voters 3 have three voters and two learners', async () => {
    const nodes = await formCluster(5, { voters: 3 });
    const views = await Promise.all(nodes.map(getCluster));
    for (const v of views) {
      expect(v.voters).toHaveLength(3);
      expect(v.learners).toHaveLength(2);
      expect(v.role).toBe(v.voters.includes(v.self) ? (v.self === v.leader ? 'leader' : 'follower') : 'learner');
    }
    const learner = nodes.find((n) => views[0]?.learners.includes(n.id)) as NodeProcess;
    expect((await probe(learner, 'from-a-learner')).status).toBe(200);
    await probesEverywhere(nodes, ['from-a-learner']);
  });

  it('SIGTERM on the leader transfers leadership, removes it, exits 0, and a learner takes its voter seat', async () => {
    const nodes = await formCluster(4, { voters: 3 });
    const old = await leaderOf(nodes);
    const exit = await procs.stop(old, 'SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(old.stderr()).toContain('transferring leadership before leaving');
    expect(old.stderr()).toMatch(/"outcome":"removed"/);
    const rest = nodes.filter((n) => n !== old);
    const views = await agreedView(rest, { voters: 3, learners: 0 });
    for (const v of views) {
      expect(v.leader).not.toBe(old.id);
      expect(v.voters).not.toContain(old.id);
      expect(v.learners).not.toContain(old.id);
    }
  });

  it('replaces a voter unreachable for longer than --replace-after by a caught-up learner', async () => {
    const nodes = await formCluster(4, { voters: 3, extra: ['--replace-after', '2s'] });
    const view = await getCluster(nodes[0] as NodeProcess);
    const victim = nodes.find((n) => view.voters.includes(n.id) && n.id !== view.leader) as NodeProcess;
    const learner = nodes.find((n) => view.learners.includes(n.id)) as NodeProcess;
    await procs.stop(victim, 'SIGKILL');
    const rest = nodes.filter((n) => n !== victim);
    const views = await agreedView(rest, { voters: 3, learners: 1, where: (v) => v.learners[0] === victim.id });
    for (const v of views) {
      expect(v.voters).toContain(learner.id);
      expect(v.learners).toEqual([victim.id]);
    }
    const leader = rest.find((n) => n.id === views[0]?.leader) as NodeProcess;
    expect(leader.stderr()).toMatch(/replaces .*unreachable for \d+ ms/);
  });

  it('refuses a node with the wrong swarm key', async () => {
    const dir = procs.tempDir();
    const right = join(dir, 'right.key');
    const wrong = join(dir, 'wrong.key');
    writeFileSync(right, generateSwarmKey());
    writeFileSync(wrong, generateSwarmKey());
    const first = await procs.start({ name: 'n1', swarmKey: right });
    const good = await procs.start({ name: 'n2', swarmKey: right, bootstrap: [first.addr] });
    await agreedView([first, good], { voters: 2, learners: 0 });

    const bad = await startExpectingFailure(first.addr, wrong, dir);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(first.addr);
    const view = await getCluster(first);
    expect([...view.voters, ...view.learners]).toHaveLength(2);
  });
});

/** A node that cannot join exits before printing its lines: run it to completion instead. */
async function startExpectingFailure(bootstrap: string, swarmKey: string, dir: string) {
  return runCli(
    [
      'node',
      '--data',
      join(dir, 'intruder'),
      '--listen',
      '/ip4/127.0.0.1/tcp/0',
      '--api',
      '127.0.0.1:0',
      '--swarm-key',
      swarmKey,
      '--bootstrap',
      bootstrap,
      '--join-timeout',
      '3s',
    ],
    { env: { MESHRUN_LOG_FORMAT: 'json' }, timeoutMs: 20_000 },
  );
}
