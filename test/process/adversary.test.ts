// The attacks of the security issue, each against three real `meshrun node` processes on
// 127.0.0.1 started the way an operator should: a swarm key (`meshrun keygen`, --swarm-key) and an
// API token (MESHRUN_TOKEN). The attacker is an in-process libp2p peer with its own fresh identity
// (test/process/attacker.ts), holding the swarm key unless the row says otherwise; it builds its
// frames with the project's own codecs, so only the intent is hostile. Each row performs its
// attack, checks that nothing the attacker injected was applied, and ends with the cluster still
// electing a leader among its three voters, with a small term, and running a small DAG submitted
// through the API with the token (stillWorks).
//
// The rows share one cluster while it stays healthy: a row marks the shared cluster dirty when it
// starts and clean when it passed, so a row that failed (an attack that got through may have
// damaged the cluster) hands the next row a fresh cluster. Row 11 kills and wipes nodes by design
// and always gets its own. Many rows fail against the code as it was when this file was written:
// the fixes were built in parallel, and each failure message names what the attacker achieved.
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterView } from '../../src/api/types.js';
import { readSwarmKey } from '../../src/net/swarm-key.js';
import * as pb from '../../src/proto/raft.js';
import type { AppendResponse } from '../../src/raft/types.js';
import type { JobView } from '../../src/scheduler/types.js';
import { Attacker, appEntry, appendMessage, confEntry, propMessage, submitEntry, voteMessage, type Received } from './attacker.js';
import {
  alive,
  DAG_MS,
  errorLines,
  followersOf,
  getJob,
  jobEnded,
  jobsNamed,
  keygen,
  leaderOf,
  listNodes,
  rssBytes,
  secureStart,
  settled,
  SMALL_TERM,
  startCluster,
  stillWorks,
  stopCluster,
  submitJob,
  type Cluster,
  type Secrets,
} from './secure-cluster.js';
import { apiFetch, eventually, getCluster, Processes, sameSet, type NodeProcess } from './spawn.js';

/** Bound on one row: a fresh cluster (a few seconds), the attack, and the check DAG, on 2 busy cores. */
const ROW_MS = 120_000;
/** Row 11 restarts nodes and waits out elections. */
const WIPE_MS = 240_000;

const procs = new Processes();
let dir: string;
let secrets: Secrets;
/** The swarm key's bytes, for the attackers that hold it. */
let swarmKey: Uint8Array;

// ---------------------------------------------------------------------------------------------
// Fixtures: the shared cluster, rows' own clusters, attackers, and the per-row log check.

let shared: { c: Cluster; dirty: boolean } | null = null;
let generation = 0;
const own: Cluster[] = [];
const attackers: Attacker[] = [];
/** Each node's stderr length when the row started: the row's own log lines come after. */
let logMarks = new Map<number, number>();

/** The shared cluster, healthy (all three alive, settled, small terms), or a fresh one. Marked dirty until the row calls clean(). */
async function sharedCluster(): Promise<Cluster> {
  if (shared !== null && !shared.dirty && shared.c.nodes.every(alive)) {
    try {
      const views = await settled(shared.c, { timeoutMs: 10_000 });
      if (Math.max(...views.map((v) => v.term)) < SMALL_TERM) {
        shared.dirty = true;
        return shared.c;
      }
    } catch {
      // not healthy: replaced below
    }
  }
  if (shared !== null) await stopCluster(procs, shared.c);
  const c = await startCluster(procs, secrets, `s${++generation}`);
  shared = { c, dirty: true };
  return c;
}

/** The row passed: the shared cluster may serve the next one. */
function clean(c: Cluster): void {
  if (shared?.c === c) shared.dirty = false;
}

/** A cluster of the row's own, stopped after the row. */
async function ownCluster(label: string): Promise<Cluster> {
  const c = await startCluster(procs, secrets, label);
  own.push(c);
  return c;
}

/** A fresh attacker (new identity) with the cluster's swarm key, or `key` (null: none at all). */
async function attacker(key: Uint8Array | null = swarmKey): Promise<Attacker> {
  const a = await Attacker.start(key === null ? {} : { swarmKey: key });
  attackers.push(a);
  return a;
}

function hex(bytes = 4): string {
  return randomBytes(bytes).toString('hex');
}

/** The attacker joins through /meshrun/join/1 as itself (docs/security.md §6 admits any holder of the swarm key as a learner), and every node sees it as a learner. */
async function joinAsLearner(a: Attacker, c: Cluster): Promise<void> {
  const r = await a.join((c.nodes[0] as NodeProcess).addr);
  expect(r, 'premise of the row: a peer with the swarm key may join as a learner').toMatchObject({ ok: true });
  await eventually(`every node to list the attacker ${a.id.slice(-8)} as a learner`, async () => {
    const views = await Promise.all(c.nodes.map(getCluster));
    return views.every((v) => v.learners.includes(a.id)) ? true : undefined;
  });
}

/** Forwards `entries` to the leader as a member's follower would (a `prop` in the leader's current term). */
async function forwardToLeader(a: Attacker, c: Cluster, entries: Parameters<typeof propMessage>[0]['entries']): Promise<void> {
  const views = await settled(c);
  const leader = leaderOf(c, views);
  const term = (views[0] as ClusterView).term;
  await a.sendRaft(leader, [propMessage({ from: a.id, to: leader.id, term, entries })]);
}

/** A harmless DAG. */
function harmless(name: string): unknown {
  return { name, tasks: { ok: { run: 'true' } } };
}

/** A submit forwarded by a joined member (accepted by design, see row 4b); returns its job id. */
async function memberSubmit(a: Attacker, c: Cluster, label: string): Promise<string> {
  const id = `member-${label}-${hex()}`;
  await forwardToLeader(a, c, [{ type: 'normal', data: submitEntry(id, harmless(`member-${label}`)) }]);
  return id;
}

/**
 * Waits until what the attacker forwarded before now has been decided: a member's submit sent
 * after it on the same stream orders after it at the leader, so once that submit is applied on
 * every node, whatever the attack got committed is applied too. Should the cluster come to refuse
 * a learner's forwarded submits as well, this falls back to the time the wait took (a note is
 * printed), and the row's checks still run.
 */
async function barrier(a: Attacker, c: Cluster, label: string): Promise<void> {
  const id = await memberSubmit(a, c, label);
  await onEveryNode(c, id).catch(() =>
    process.stderr.write(`note: ${label}: the member submit ${id} was not applied within 15 s; checking without that barrier\n`),
  );
}

/** Waits (bounded) until every node has job `id`. */
async function onEveryNode(c: Cluster, id: string, timeoutMs = 15_000): Promise<void> {
  await eventually(
    `every node to have job ${id}`,
    async () => ((await Promise.all(c.nodes.map((n) => getJob(n, id)))).every((j) => j !== null) ? true : undefined),
    timeoutMs,
    150,
  );
}

/** Polls every node's view in the background, recording each one whose voters are not exactly `c.ids` (or that lists a forbidden voter). */
function watchVoters(c: Cluster, forbidden: readonly string[]): { seen(): string[]; stop(): Promise<string[]> } {
  const seen: string[] = [];
  let running = true;
  const loop = (async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() clears it while the loop awaits
    while (running) {
      for (const n of c.nodes.filter(alive)) {
        const v = await getCluster(n).catch(() => null);
        if (v === null) continue;
        if (!sameSet(v.voters, c.ids) || forbidden.some((f) => v.voters.includes(f)))
          seen.push(`${n.name} at term ${v.term}: voters ${v.voters.map((x) => x.slice(-8)).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    seen: () => [...new Set(seen)],
    stop: async () => {
      running = false;
      await loop;
      return [...new Set(seen)];
    },
  };
}

/** Task names of a job in its flat order (a spec's shards consecutive): a task's index in the scheduler's commands. */
function taskNames(job: JobView): string[] {
  return job.specs.flatMap((s) => (s.shards === null ? [s.name] : Array.from({ length: s.shards }, (_, i) => `${s.name}[${i}]`)));
}

const maxTerm = (views: readonly ClusterView[]): number => Math.max(...views.map((v) => v.term));

beforeAll(async () => {
  dir = procs.tempDir('meshrun-adversary-');
  secrets = { swarmKeyFile: await keygen(dir), token: `adv-${hex(16)}` };
  swarmKey = readSwarmKey(secrets.swarmKeyFile);
});

afterAll(async () => {
  await procs.cleanup();
});

describe('attacks on a three-node cluster with a swarm key and an API token', { concurrent: false }, () => {
  // Rows (the security issue's numbering):
  //  1  a non-member's AppendEntries (high term, matching prev) carrying a submit: never applied
  //  2  vote requests with terms 2^53-1 and 2^40 from a non-member: terms stay small
  //  3  a joined learner forwards conf entries (add itself as voter, remove a voter): membership unchanged
  //  4  a joined learner forwards heartbeat/claim/finish commands for another node: not applied
  //  4b a joined learner forwards a submit: ACCEPTED by design (members may submit)
  //  5  InstallSnapshot chunks with a huge total, many 1 MiB chunks, from a non-member: RSS bounded
  //  6  bursts of transfer-flagged vote requests, from a non-member and a joined learner: terms hold
  //  7  a non-member reads a task log over /meshrun/logs/1: refused
  //  8  a joined learner gossips 1e9 free slots, and a report claiming to be another node: no effect
  //  9  a join request naming another member's id: refused
  // 10  without the swarm key: no connection at all
  // 11  a voter restarted with its Raft store wiped: no acknowledged job lost
  // 12  a leader whose clock is an hour ahead: skipped here (needs a clock hook), see the row

  beforeEach(() => {
    logMarks = new Map(procs.all.map((n) => [n.pid, n.stderr().length]));
  });

  afterEach(async (ctx) => {
    for (const a of attackers.splice(0)) await a.stop().catch(() => undefined);
    const failed = ctx.task.result?.state === 'fail';
    const nodes = [...new Set([...(shared ? shared.c.nodes : []), ...own.flatMap((c) => c.nodes)])];
    const errors = errorLines(nodes, logMarks);
    if (failed || errors.length > 0 || process.env['MESHRUN_TEST_LOGS'] === '1') {
      process.stderr.write(
        `\nnode logs of this row:\n${nodes
          .map(
            (n) =>
              `--- ${n.name} (pid ${n.pid}, ${n.id.slice(-8)})\n${n
                .stderr()
                .slice(logMarks.get(n.pid) ?? 0)
                .split('\n')
                .slice(-80)
                .join('\n')}`,
          )
          .join('\n')}\n`,
      );
    }
    for (const c of own.splice(0)) await stopCluster(procs, c);
    if (errors.length > 0 && shared) shared.dirty = true;
    expect(errors, 'nodes logged errors during the row').toEqual([]);
  });

  it(
    "1. a non-member's AppendEntries (high term, prev matching the log) carrying a submit is never applied: no job, no marker file",
    async () => {
      const c = await sharedCluster();
      const views = await settled(c);
      const term = maxTerm(views) + 10;
      const marker = join(dir, `row1-${hex()}`);
      const evil = { name: 'evil-r1', tasks: { pwn: { run: `touch ${marker}` } } };
      const a = await attacker();
      // Every node in turn, followers first: a rogue leader probes where the node's log ends (a
      // rejected append's hint names its last index and that entry's term), then appends its entry
      // right after, committed, and for good measure once more after (0, 0).
      for (const victim of [...followersOf(c, views), leaderOf(c, views)]) {
        const since = Date.now();
        await a.sendRaft(victim, [
          { type: 'app', from: a.id, to: victim.id, term, prevIndex: 2 ** 40, prevTerm: term, entries: [], commit: 0 },
        ]);
        let prevIndex: number;
        let prevTerm: number;
        try {
          const r = await a.waitForMessage(
            'answer to the probing append',
            (x: Received) => x.from === victim.id && x.msg.type === 'appResp',
            3000,
            since,
          );
          const m = r.msg as AppendResponse;
          prevIndex = m.reject ? m.hintIndex : m.index;
          prevTerm = m.reject ? m.hintTerm : term;
        } catch {
          // No answer (the node refuses strangers): aim at its log as its API shows it.
          const v = await getCluster(victim);
          prevIndex = v.commit;
          prevTerm = v.term;
        }
        const data = [submitEntry(`evil-r1-${hex()}`, evil)];
        await a.sendRaft(victim, [
          appendMessage({ from: a.id, to: victim.id, term, prevIndex, prevTerm, data }),
          appendMessage({ from: a.id, to: victim.id, term, prevIndex: 0, prevTerm: 0, data }),
        ]);
        // A node that took the entry answers it (index past prevIndex); one that refused says nothing.
        await a
          .waitForMessage(
            'acceptance',
            (x) => x.from === victim.id && x.msg.type === 'appResp' && !x.msg.reject && x.msg.index > prevIndex,
            2000,
            since,
          )
          .catch(() => undefined);
        expect(await jobsNamed(c, 'evil-r1'), `the rogue append to ${victim.name} was applied`).toEqual([]);
      }
      await stillWorks(c, 'r1');
      expect(await jobsNamed(c, 'evil-r1'), 'the rogue submit reached the cluster').toEqual([]);
      expect(existsSync(marker), `the injected task ran: ${marker} exists`).toBe(false);
      clean(c);
    },
    ROW_MS,
  );

  it(
    '2. vote requests with terms 2^53-1 and 2^40 from a non-member leave the terms small and the cluster working',
    async () => {
      const c = await sharedCluster();
      const a = await attacker();
      for (const n of c.nodes) {
        // The codec refuses to write a term past MAX_TERM (as the node's decoder refuses to read
        // one), so these frames come from the generated encoder, which checks nothing.
        await a.sendRaft(
          n,
          [Number.MAX_SAFE_INTEGER, 2 ** 40].flatMap((term) =>
            [true, false].map((pre) =>
              pb.Message.encode({ from: a.id, to: n.id, term, vote: { pre, lastIndex: 2 ** 40, lastTerm: term, transfer: false } }),
            ),
          ),
        );
      }
      const views = await stillWorks(c, 'r2');
      expect(maxTerm(views)).toBeLessThan(SMALL_TERM);
      const granted = a.received.filter((r) => r.msg.type === 'voteResp' && !r.msg.reject);
      expect(
        granted.map((r) => `${r.from.slice(-8)} granted a ${r.msg.type} at term ${r.msg.term}`),
        'a node voted for the stranger',
      ).toEqual([]);
      clean(c);
    },
    ROW_MS,
  );

  it(
    '3. a joined learner forwarding conf entries (itself as voter, a voter removed) does not change the membership',
    async () => {
      const c = await sharedCluster();
      const a = await attacker();
      await joinAsLearner(a, c);
      const views = await settled(c);
      const victim = followersOf(c, views)[0] as NodeProcess;
      const watch = watchVoters(c, [a.id]);
      try {
        await forwardToLeader(a, c, [confEntry({ type: 'addVoter', node: a.id })]);
        await barrier(a, c, 'r3a');
        expect(watch.seen(), `the voter set changed after the attacker forwarded "addVoter ${a.id.slice(-8)}"`).toEqual([]);
        await forwardToLeader(a, c, [confEntry({ type: 'remove', node: victim.id })]);
        await barrier(a, c, 'r3b');
        expect(watch.seen(), `the voter set changed after the attacker forwarded "remove ${victim.name}"`).toEqual([]);
        await stillWorks(c, 'r3');
      } finally {
        await watch.stop();
      }
      expect(watch.seen(), 'the voter set changed').toEqual([]);
      for (const v of await Promise.all(c.nodes.map(getCluster))) {
        expect(v.voters).not.toContain(a.id);
        expect([...v.voters].sort()).toEqual([...c.ids].sort());
      }
      clean(c);
    },
    ROW_MS,
  );

  it(
    "4. a joined learner forwarding heartbeat, claim and finish commands for another node: that node's running tasks keep running and finish normally",
    async () => {
      const c = await sharedCluster();
      const a = await attacker();
      await joinAsLearner(a, c);
      const via = c.nodes[0] as NodeProcess;
      const id = await submitJob(via, {
        name: 'work-r4',
        tasks: Object.fromEntries(Array.from({ length: 6 }, (_, k) => [`t${k}`, { run: 'sleep 4', retries: 0 }])),
      });
      // Some node B running tasks of it: the attacker speaks for B.
      const { job, b } = await eventually('a node to run tasks of the job', async () => {
        const j = await getJob(via, id);
        if (j === null) return undefined;
        const running = Object.values(j.tasks).filter((t) => t.state === 'running' && t.node !== null);
        const node = c.nodes.find((n) => running.some((t) => t.node === n.id));
        return node ? { job: j, b: node } : undefined;
      });
      const names = taskNames(job);
      const held = Object.entries(job.tasks)
        .filter(([, t]) => t.state === 'running' && t.node === b.id)
        .map(([name, t]) => ({ name, index: names.indexOf(name), attempt: t.attempt }));
      expect(held.length).toBeGreaterThan(0);
      const boot = (randomBytes(4).readUInt32LE(0) % 0x7fffffff) + 1;
      const refs = held.map((h) => ({ job: id, task: h.index }));
      // "B restarted" (a new boot), then B claims its own tasks again and reports them failed.
      await forwardToLeader(a, c, [
        { type: 'normal', data: appEntry({ type: 'heartbeat', node: b.id, boot, slots: 2, handlers: [], leaseMs: 600_000, seq: 1 }) },
        { type: 'normal', data: appEntry({ type: 'claim', node: b.id, boot, tasks: refs }) },
        {
          type: 'normal',
          data: appEntry({
            type: 'finish',
            node: b.id,
            boot,
            claimNext: false,
            results: held.flatMap((h) =>
              [h.attempt, h.attempt + 1].map((attempt) => ({
                job: id,
                task: h.index,
                attempt,
                outcome: 'failed' as const,
                exitCode: 1,
                durationMs: 1,
                stdout: '',
                stderr: 'forged by the attacker',
              })),
            ),
          }),
        },
      ]);
      await barrier(a, c, 'r4');
      const done = await jobEnded(via, id, DAG_MS);
      for (const h of held) {
        const t = done.tasks[h.name];
        expect(t, `${h.name}, running on ${b.name} at attempt ${h.attempt} when the forged commands were sent`).toMatchObject({
          state: 'succeeded',
          node: b.id,
          attempt: h.attempt,
        });
      }
      expect(done.state).toBe('succeeded');
      await stillWorks(c, 'r4');
      clean(c);
    },
    ROW_MS,
  );

  it(
    '4b. a joined learner forwarding a submit: accepted by design (members may submit; the API token guards the edge, the swarm key guards membership)',
    async () => {
      // Not an attack the cluster refuses: any member may propose scheduler commands in its own
      // name, and a submit names no node. This row documents that, and that it does no harm.
      const c = await sharedCluster();
      const a = await attacker();
      await joinAsLearner(a, c);
      const id = await memberSubmit(a, c, 'r4b');
      await onEveryNode(c, id);
      const job = await jobEnded(c.nodes[0] as NodeProcess, id);
      expect(job.state).toBe('succeeded');
      await stillWorks(c, 'r4b');
      clean(c);
    },
    ROW_MS,
  );

  it(
    "5. InstallSnapshot chunks with a total of 2^40 and 192 chunks of 1 MiB from a non-member do not grow the node's memory by 64 MB",
    async () => {
      const c = await sharedCluster();
      const views = await settled(c);
      const victim = followersOf(c, views)[0] as NodeProcess;
      const a = await attacker();
      const before = rssBytes(victim.pid);
      const term = maxTerm(views) + 1;
      const MiB = 1 << 20;
      const CHUNKS = 192;
      const chunk = new Uint8Array(MiB).map((_, i) => i & 0xff);
      const meta = { index: 2 ** 40, term, conf: { voters: [a.id], learners: [] } };
      const since = Date.now();
      for (let k = 0; k < CHUNKS; k++) {
        // A node that resets the stream (or refuses the protocol) has refused the rest too.
        if (!(await a.sendRaft(victim, [{ type: 'snap', from: a.id, to: victim.id, term, meta, offset: k * MiB, total: 2 ** 40, chunk }])))
          break;
      }
      // A node that buffers the chunks acknowledges the last one; one that refuses says nothing.
      await a
        .waitForMessage(
          'acknowledgement of the last chunk',
          (x) => x.from === victim.id && x.msg.type === 'snapResp' && x.msg.offset >= CHUNKS * MiB,
          5000,
          since,
        )
        .catch(() => undefined);
      const after = rssBytes(victim.pid);
      const grew = after - before;
      expect(grew, `${victim.name}'s RSS went from ${(before / MiB).toFixed(0)} MiB to ${(after / MiB).toFixed(0)} MiB`).toBeLessThan(
        64 * MiB,
      );
      await stillWorks(c, 'r5');
      const later = rssBytes(victim.pid);
      expect(later - before, `${victim.name}'s RSS after the check DAG: ${(later / MiB).toFixed(0)} MiB`).toBeLessThan(64 * MiB);
      clean(c);
    },
    ROW_MS,
  );

  it(
    '6. bursts of 200 transfer-flagged vote requests from a non-member and from a joined learner leave the term where it was (+2 at most) and submits succeeding',
    async () => {
      const c = await sharedCluster();
      const outsider = await attacker();
      const insider = await attacker();
      await joinAsLearner(insider, c);
      const term0 = maxTerm(await settled(c));
      const burst = (a: Attacker): Promise<boolean[]> =>
        Promise.all(
          c.nodes.map((n) =>
            a.sendRaft(
              n,
              Array.from({ length: 200 }, (_, k) =>
                voteMessage({ from: a.id, to: n.id, term: term0 + 1 + k, transfer: true, lastIndex: 2 ** 40, lastTerm: term0 + 1 + k }),
              ),
            ),
          ),
        );
      // A submit while the bursts go out, and one after.
      const during = submitJob(c.nodes[1] as NodeProcess, harmless('during-r6'));
      await Promise.all([burst(outsider), burst(insider)]);
      const id = await during;
      expect((await jobEnded(c.nodes[1] as NodeProcess, id)).state).toBe('succeeded');
      const views = await stillWorks(c, 'r6');
      expect(maxTerm(views), `terms after the bursts: ${views.map((v) => v.term).join(', ')} (${term0} before)`).toBeLessThanOrEqual(
        term0 + 2,
      );
      clean(c);
    },
    ROW_MS,
  );

  it(
    '7. a non-member cannot read a task log over /meshrun/logs/1',
    async () => {
      const c = await sharedCluster();
      const secret = `secret-${hex(8)}`;
      const via = c.nodes[0] as NodeProcess;
      const id = await submitJob(via, { name: 'logs-r7', tasks: { talk: { run: `echo ${secret}` } } });
      const job = await jobEnded(via, id);
      expect(job.state).toBe('succeeded');
      const t = job.tasks['talk'];
      const ran = c.nodes.find((n) => n.id === t?.node) as NodeProcess;
      // The log exists (so a refusal below is not "missing"): the API, with the token, serves it.
      const viaApi = await apiFetch(via, `/v1/jobs/${id}/tasks/talk/log`);
      expect(viaApi.status).toBe(200);
      expect(await viaApi.text()).toContain(secret);

      const a = await attacker();
      let answer: Awaited<ReturnType<Attacker['readLog']>> | null = null;
      let refusal = '';
      try {
        answer = await a.readLog(ran, { job: id, task: 'talk', attempt: t?.attempt ?? 1 });
      } catch (err) {
        refusal = (err as Error).message; // refused at the protocol level: fine
      }
      const leaked = answer?.ok === true ? new TextDecoder().decode(answer.data) : '';
      expect(leaked, `the log was served to a stranger (${ran.name})`).toBe('');
      expect(answer === null || !answer.ok, `answer: ${JSON.stringify(answer)} ${refusal}`).toBe(true);
      await stillWorks(c, 'r7');
      clean(c);
    },
    ROW_MS,
  );

  it(
    '8. a joined learner gossiping 1e9 free slots, and a report claiming to be another node, has no effect: a 30-task DAG spreads and finishes, GET /v1/nodes never shows 1e9',
    async () => {
      const c = await sharedCluster();
      const a = await attacker();
      await joinAsLearner(a, c);
      const reached = await a.joinLoadTopic(c.ids);
      if (reached.length < c.ids.length)
        process.stderr.write(`note: r8: only ${reached.length} of 3 nodes let the attacker into the load topic\n`);
      const other = c.nodes[1] as NodeProcess;
      const HUGE = 1e9;
      let publishing = true;
      const publisher = (async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- cleared below while the loop awaits
        while (publishing) {
          const at = Date.now();
          await a
            .publishLoad({ node: a.id, slots: HUGE, free: HUGE, running: 0, handlers: [], applied: 2 ** 40, at })
            .catch(() => undefined);
          await a
            .publishLoad({ node: other.id, slots: HUGE, free: HUGE, running: 0, handlers: [], applied: 2 ** 40, at })
            .catch(() => undefined);
          await new Promise((r) => setTimeout(r, 400));
        }
      })();
      const shown: string[] = [];
      let watching = true;
      const watcher = (async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- cleared below while the loop awaits
        while (watching) {
          for (const n of c.nodes) {
            const list = await listNodes(n).catch(() => []);
            for (const e of list)
              if ((e.free ?? 0) >= HUGE || (e.slots ?? 0) >= HUGE)
                shown.push(`${n.name} shows ${e.id.slice(-8)} with ${e.slots} slots, ${e.free} free`);
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      try {
        const via = c.nodes[2] as NodeProcess;
        const started = Date.now();
        const id = await submitJob(via, { name: 'spread-r8', tasks: { t: { run: 'sleep 0.2', shards: 30 } } });
        const job = await jobEnded(via, id, 60_000);
        expect(job.state).toBe('succeeded');
        const ranOn = new Set(Object.values(job.tasks).map((t) => t.node));
        expect(ranOn.size, `the 30 tasks ran on ${[...ranOn].map((x) => String(x).slice(-8)).join(', ')} only`).toBeGreaterThanOrEqual(2);
        expect(Date.now() - started).toBeLessThan(60_000);
      } finally {
        publishing = false;
        watching = false;
        await Promise.all([publisher, watcher]);
      }
      expect([...new Set(shown)], 'a node shows the gossiped 1e9').toEqual([]);
      await stillWorks(c, 'r8');
      clean(c);
    },
    ROW_MS,
  );

  it(
    "9. a join request naming another member's id is refused (through the leader and through a follower), and that member's address is untouched",
    async () => {
      const c = await sharedCluster();
      const views = await settled(c);
      const [b, follower] = followersOf(c, views) as [NodeProcess, NodeProcess];
      const a = await attacker();
      const forged = { id: b.id, addrs: [`/ip4/127.0.0.1/tcp/${a.port}/p2p/${b.id}`], cluster: null, emptyStore: true };
      for (const target of [leaderOf(c, views), follower]) {
        const r = await a.join(target.addr, forged).catch((err: unknown) => ({ ok: false as const, error: (err as Error).message }));
        expect(r.ok, `join as ${b.name} via ${target.name}: ${JSON.stringify(r)}`).toBe(false);
      }
      await stillWorks(c, 'r9');
      for (const n of c.nodes) {
        const entry = (await listNodes(n)).find((e) => e.id === b.id);
        expect(
          entry?.addresses.filter((x) => x.includes(`/tcp/${a.port}/`)),
          `${n.name}'s address book for ${b.name}`,
        ).toEqual([]);
      }
      clean(c);
    },
    ROW_MS,
  );

  it(
    '10. without the swarm key (none, or another one) the attacker cannot even connect',
    async () => {
      const c = await sharedCluster();
      const keyless = await attacker(null);
      const otherKey = readSwarmKey(await keygen(procs.tempDir('meshrun-other-key-')));
      const wrong = await attacker(otherKey);
      // All at once: a refused upgrade can take its whole timeout (5 s) to fail.
      const tries = [keyless, wrong].flatMap((a) => [
        ...c.nodes.map(async (n) => {
          const r = await a.connect(n.addr, 15_000).then(
            () => 'connected',
            (err: unknown) => `refused: ${(err as Error).message}`,
          );
          expect(
            r,
            `${n.name} accepted a connection from an attacker ${a === keyless ? 'without a swarm key' : 'with another swarm key'}`,
          ).toMatch(/^refused/);
        }),
        (async () => {
          const r = await a.join((c.nodes[0] as NodeProcess).addr).then(
            (x) => `answered ${JSON.stringify(x)}`,
            (err: unknown) => `refused: ${(err as Error).message}`,
          );
          expect(r).toMatch(/^refused/);
        })(),
      ]);
      await Promise.all(tries);
      for (const a of [keyless, wrong]) for (const n of c.nodes) expect(a.connectedTo(n.id)).toBe(false);
      for (const n of c.nodes) {
        const net = (await (await apiFetch(n, '/v1/debug/net')).json()) as { connections: string[] };
        expect(net.connections.filter((x) => x.startsWith(keyless.id) || x.startsWith(wrong.id))).toEqual([]);
      }
      await stillWorks(c, 'r10');
      clean(c);
    },
    ROW_MS,
  );

  it(
    '11. a voter restarted with its Raft store wiped loses no acknowledged job: the cluster elects no leader without it, or keeps the job',
    async () => {
      // Its own cluster: nodes are killed, wiped and restarted. The scenario makes the wiped voter
      // decisive: the job is acknowledged while only the leader L and the voter W hold it (F down);
      // then W's Raft store is wiped and L is down, and F (which never saw the job) comes back with
      // W. If W, remembering nothing, votes F in, F leads without the job and overwrites it on L
      // later: a silent loss. docs/security.md §10: W rejoins as a learner, promoted only once caught up, so
      // F alone is no majority until L is back.
      const c = await ownCluster('wipe');
      const views = await settled(c);
      const l = leaderOf(c, views);
      const [w, f] = followersOf(c, views) as [NodeProcess, NodeProcess];
      await procs.stop(f, 'SIGKILL');
      const id = await submitJob(l, harmless('acked-r11')); // 201: acknowledged
      await eventually(`${w.name} to have applied the job`, async () => ((await getJob(w, id)) !== null ? true : undefined));
      expect(await getJob(l, id)).not.toBeNull();

      await procs.stop(w, 'SIGKILL');
      await procs.stop(l, 'SIGKILL');
      rmSync(join(w.dataDir, 'raft'), { recursive: true, force: true });
      expect(existsSync(join(w.dataDir, 'node.key'))).toBe(true); // same identity

      const f2 = await procs.start(secureStart(secrets, 'wipe-F', { dataDir: f.dataDir }));
      // W may not finish its join until there is a leader with a real majority: not awaited here.
      const w2Start = procs.start(
        secureStart(secrets, 'wipe-W', {
          dataDir: w.dataDir,
          bootstrap: [f2.addr],
          extra: ['--join-timeout', '150s'],
          startTimeoutMs: 150_000,
        }),
      );
      w2Start.catch(() => undefined);
      // While L is down, a leader may only be elected with a majority that holds the job.
      const loss: string[] = [];
      const watchUntil = Date.now() + 10_000;
      while (Date.now() < watchUntil && loss.length === 0) {
        const v = await getCluster(f2).catch(() => null);
        if (v?.role === 'leader' && (await getJob(f2, id).catch(() => null)) === null) {
          loss.push(
            `${f2.name} was elected leader at term ${v.term} with L down and W wiped, and it does not have the acknowledged job ${id}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(loss, 'a leader without the acknowledged job: it is lost').toEqual([]);

      const l2 = await procs.start(secureStart(secrets, 'wipe-L', { dataDir: l.dataDir, bootstrap: [f2.addr] }));
      const w2 = await w2Start;
      expect(w2.id).toBe(w.id);
      const all: Cluster = { label: 'wipe', nodes: [l2, w2, f2], ids: c.ids };
      own.push(all);
      await settled(all, { timeoutMs: 60_000 });
      let lacking: string[] = [];
      await eventually(
        `every node to have job ${id}`,
        async () => {
          const jobs = await Promise.all(all.nodes.map((n) => getJob(n, id)));
          lacking = all.nodes.filter((_, i) => jobs[i] === null).map((n) => n.name);
          return lacking.length === 0 ? true : undefined;
        },
        30_000,
        250,
      ).catch(() => undefined);
      expect(lacking, `nodes without the acknowledged job ${id}`).toEqual([]);
      await stillWorks(all, 'r11');
    },
    WIPE_MS,
  );

  // 12. A leader whose clock is an hour ahead: a process test would need a clock-skew hook in the
  // node, which it does not have. Covered in the simulator instead: test/sim/scenarios.test.ts
  // ("clock jumps, back and forth within the lease margin, on the leader and others" and "a clock
  // set back past the lease margin ...", through the scenario `skew` fault of
  // sim/scenario/scripted-faults.ts); an hour-ahead leader belongs there as a scenario too.
  it.skip('12. a leader whose clock is an hour ahead (covered in the simulator, see the comment above)', () => undefined);
});
