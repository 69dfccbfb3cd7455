// Each simulated node's membership services, the node's own code over simulated ports
// (docs/simulation.md §2): the ConfChanger, the Maintenance loop (membership.ts decides: promote
// caught-up learners, demote voters that lost what they acknowledged), and the join protocol's two
// sides, the leader's answerer (join-handler.ts: an empty store is removed and re-added as a
// learner, answered with the members and `admittedAt`) and the joiner's attempts (join-client.ts).
// What is the simulator's here is only the wiring: the clock of the node's process, an address
// book (the simulated network routes by node id, so every node has its one address and nothing
// proposes address entries), the join request's round trip over the simulated links, and what
// node.ts does with a join answer. And the nemesis's rule of which disks may be wiped (wipeable).
import { pino } from 'pino';
import { ConfChanger } from '../src/node/conf-changer.js';
import type { Reply } from '../src/node/proposal.js';
import { introducersOf, requestAdmission } from '../src/node/join-client.js';
import { createJoinAnswerer, type JoinAnswerer } from '../src/node/join-handler.js';
import type { Logger } from '../src/node/logger.js';
import { Maintenance } from '../src/node/maintenance.js';
import { defaultMembershipPolicy, type MembershipPolicy } from '../src/node/membership.js';
import type { JoinRequest, JoinResponse } from '../src/net/types.js';
import type { SeededRng } from '../src/raft/rng.js';
import type { ConfChange, NodeId } from '../src/raft/types.js';
import type { Cluster } from './cluster.js';

/** The node's periods and bounds (src/node/node.ts, src/node/options.ts). */
const MAINTENANCE_MS = 1000;
const JOIN_ANSWER_MS = 10_000;
const JOIN_TIMEOUT_MS = 30_000;
/**
 * Bound on one join attempt. The node's is 10 s, for real dials; the simulated network's round
 * trips take milliseconds, and a request lost to a partition just before the heal must be asked
 * again well within the liveness bound (about 5 s).
 */
const JOIN_ATTEMPT_MS = 1000;

/** A node's one address on the simulated network. */
export const simAddress = (id: NodeId): string => `/sim/${id}`;

function simAddressOwner(addr: string): NodeId | null {
  return /^\/sim\/([^/]+)$/.exec(addr)?.[1] ?? null;
}

/** Every node can be dialled at its one address: the book the services read. */
const BOOK = { addressesOf: (id: NodeId): readonly string[] => [simAddress(id)] };

interface Services {
  readonly incarnation: number;
  readonly conf: ConfChanger;
  readonly answer: JoinAnswerer;
}

export class SimMembership<R> {
  readonly counts = { joins: 0, joinsFailed: 0 };
  private readonly services = new Map<NodeId, Services>();
  /** Wiped nodes not let in since. */
  private readonly outside = new Set<NodeId>();
  /** Voters a leader's core reported holding less than they acknowledged, until they are voters no more. */
  private readonly suspects = new Set<NodeId>();
  private readonly policy: MembershipPolicy;

  constructor(
    private readonly c: Cluster<R>,
    /** Delays of the join protocol's messages. */
    private readonly rng: SeededRng,
    /**
     * The membership loop's policy. The sweeps' default (sweepPolicy): every node a voter when it can be (the
     * operator, admin.ts, and the faults vary the membership), and up right now when heard within
     * about one maximal election timeout of the simulator's 10 ms ticks (20 ticks of up to 12 ms),
     * as the node's policy uses its own. A scenario runs the node's own (scenario-run.ts).
     */
    policy?: MembershipPolicy,
  ) {
    this.policy = policy ?? sweepPolicy(c.nodes.length);
  }

  /** The node (re)started: its services start with its process and die with it. */
  started(id: NodeId): void {
    const n = this.c.sims.get(id);
    const driver = n?.driver;
    const clock = n?.clock;
    if (!n || !driver || !clock) return;
    const log = this.logger(id);
    const conf = new ConfChanger(driver, clock);
    const maintenance = new Maintenance(
      {
        // The driver, with the core's lost-acknowledgement reports seen on their way (wipeable).
        driver: {
          status: () => driver.status(),
          requestPropose: (build, opts, reply) => driver.requestPropose(build, opts, reply),
          takeLostAcknowledged: () => {
            const ids = driver.takeLostAcknowledged();
            for (const s of ids) this.suspects.add(s);
            return ids;
          },
        },
        state: BOOK,
        conf,
        log,
        lastHeard: n.lastHeard,
        clock,
        selfAddrs: () => [],
        announce: () => Promise.resolve(false),
      },
      { policy: this.policy, periodMs: MAINTENANCE_MS },
    );
    maintenance.start();
    const answer = createJoinAnswerer({
      driver,
      state: BOOK,
      conf,
      addressesOf: BOOK.addressesOf,
      clusterId: () => null,
      log,
      timeoutMs: JOIN_ANSWER_MS,
      addressOwner: simAddressOwner,
    });
    this.services.set(id, { incarnation: n.incarnation, conf, answer });
  }

  /** The node lost its disk: it is outside until a join lets it in. */
  wiped(id: NodeId): void {
    this.outside.add(id);
  }

  /**
   * The node started without a store listing it: it asks the bootstrap peers (here: every other
   * node) to let it in with the node's own join client, and once answered its driver hears the
   * members named and holds its vote until it has applied `admittedAt` (node.ts,
   * joinThroughBootstrap, which also records that hold on disk; here it is kept in memory only).
   * A join that gives up ends the process in production (exit 3) and its supervisor starts it
   * again: here it asks again.
   */
  join(id: NodeId): void {
    const n = this.c.sims.get(id);
    const clock = n?.clock;
    if (!n || !clock) return;
    const incarnation = n.incarnation;
    this.c.trace(`${id} asks to join (its store does not list it)`);
    requestAdmission(
      {
        bootstrap: this.c.nodes.filter((o) => o !== id).map(simAddress),
        request: { id, addrs: [simAddress(id)], cluster: null, emptyStore: true },
        send: (addr, req, timeoutMs, reply) => this.ask(id, addr, req, timeoutMs, reply),
        timeoutMs: JOIN_TIMEOUT_MS,
        attemptMs: JOIN_ATTEMPT_MS,
        log: this.logger(id),
        clock,
      },
      {
        resolve: (answer) => {
          const driver = n.driver;
          if (!driver || n.incarnation !== incarnation) return;
          const members = introducersOf(answer);
          driver.admitIntroducers(members);
          driver.holdVotingUntil(answer.admittedAt);
          this.counts.joins++;
          this.c.trace(`${id} joined as a learner (admitted at ${answer.admittedAt}); it hears ${members.join(',')}`);
        },
        reject: (err) => {
          this.counts.joinsFailed++;
          this.c.trace(`${id} gave up joining (${err.message}); started again, it asks again`);
          if (n.incarnation === incarnation) this.join(id);
        },
      },
    );
  }

  /**
   * A membership change the operator asks of `id` (admin.ts), queued with the node's own changes in
   * its ConfChanger. False when the node is not available.
   */
  change(id: NodeId, cc: ConfChange, timeoutMs: number, reply: Reply<void>): boolean {
    const n = this.c.sims.get(id);
    const s = this.services.get(id);
    if (!n?.available || s?.incarnation !== n.incarnation) return false;
    n.run('conf change', () => s.conf.request(cc, timeoutMs, reply));
    return true;
  }

  /**
   * One join request from `from` to the node at `addr` and its answer, over the simulated links:
   * lost to a partition (the asker times out), refused at once by a node that is down, held by a
   * paused one until it resumes. The answer reaches only the incarnation that asked.
   */
  private ask(from: NodeId, addr: string, req: JoinRequest, timeoutMs: number, reply: Reply<JoinResponse>): void {
    const c = this.c;
    const asker = c.sims.get(from);
    const clock = asker?.clock;
    if (!asker || !clock) return;
    const incarnation = asker.incarnation;
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
    };
    clock.after(timeoutMs, () =>
      settle(() => reply.reject(Object.assign(new Error(`no answer from ${addr} within ${timeoutMs} ms`), { kind: 'timeout' }))),
    );
    const to = simAddressOwner(addr);
    const target = to === null ? undefined : c.sims.get(to);
    if (to === null || !target) return settle(() => reply.reject(new Error(`no node at ${addr}`)));
    const back = (answer: () => void): void => {
      c.after(this.delay(), () => {
        if (c.net.isBlocked(to, from) || asker.incarnation !== incarnation) return;
        asker.run('join answer', () => settle(answer));
      });
    };
    c.after(this.delay(), () => {
      if (c.net.isBlocked(from, to)) return;
      if (!target.up) return back(() => reply.reject(new Error(`${addr} refused the connection`)));
      target.run('join request', () => {
        const s = this.services.get(to);
        if (s?.incarnation !== target.incarnation) return;
        s.answer(req, { from }, (res) => back(() => reply.resolve(res)));
      });
    });
  }

  private delay(): number {
    return 1 + Math.floor(this.c.net.params.delayMean * (0.25 + 1.5 * this.rng.float()));
  }

  /** The services' log lines, into the trace. */
  private logger(id: NodeId): Logger {
    const c = this.c;
    return pino(
      { level: 'debug', base: undefined, timestamp: false },
      {
        write: (line: string) => {
          const fields = JSON.parse(line) as Record<string, unknown>;
          const msg = String(fields['msg']);
          delete fields['msg'];
          delete fields['level'];
          c.trace(() => `${id}: ${msg} ${JSON.stringify(fields)}`);
        },
      },
    );
  }

  /**
   * A wiped node has not been let in yet, or not sent its first snapshot (its store does not list
   * it): the nemesis wipes one disk at a time, so that a node that only just got in is not needed
   * for the majority that must let the next one in.
   */
  rejoining(): boolean {
    for (const id of this.outside) if (this.c.sims.get(id)?.disk.lists(id)) this.outside.delete(id);
    return this.outside.size > 0;
  }

  /**
   * The voters whose disk may be wiped now: none while another wiped node is being let in, while a
   * voter reported holding less than it acknowledged is not demoted yet (a fault already: a second
   * one may leave no quorum that can demote or remove anyone: kv seed 18 of 3 nodes), while a
   * membership change is in flight, with fewer than three voters, while any voter's store does not
   * list it yet, or while any voter's log lacks the current membership or has not applied it yet.
   * The voters that remain then commit the join's change without the wiped one.
   *
   * The last two conditions hide a gap in the core rather than a fault of this model. A voter whose
   * log predates a learner's promotion refuses that new voter's vote request (votes only from
   * voters it knows), and cannot catch up without a leader; with a wiped voter out, the cluster may
   * then have no majority left that elects anyone (kv seed 211 before this condition). And a
   * membership takes effect when applied: a leader wiped right after it applied a promotion, before
   * the others learned that it committed, leaves them counting by the membership before it, in
   * which the wiped node's vote is needed and the promoted node is a learner (kv seed 11 of 3 nodes,
   * once the simulator ran the production driver).
   */
  wipeable(): NodeId[] {
    const c = this.c;
    if (this.rejoining()) return [];
    const leader = c.leader();
    const st = leader === null ? null : c.status(leader);
    if (leader === null || !st || st.role !== 'leader' || st.progress === null || !c.confSettled(leader)) return [];
    const voters = st.membership.conf.voters;
    for (const s of this.suspects) if (!voters.includes(s)) this.suspects.delete(s);
    if (this.suspects.size > 0) return [];
    if (voters.length < 3 || voters.some((v) => !c.sims.get(v)?.disk.lists(v))) return [];
    const current = st.membership.index;
    if (voters.some((v) => v !== leader && (st.progress?.get(v)?.match ?? 0) < current)) return [];
    if (voters.some((v) => (c.status(v)?.membership.index ?? 0) < current)) return [];
    return [...voters];
  }
}

/**
 * The sweeps' membership policy: `targetVoters` voters (every node up to 9, a big cluster's few
 * beyond: sim/scale.ts), up right now when heard within about one maximal election timeout of the
 * simulator's 10 ms ticks (20 ticks of up to 12 ms), as the node's policy uses its own.
 */
export function sweepPolicy(targetVoters: number): MembershipPolicy {
  return { ...defaultMembershipPolicy, targetVoters, catchUpEntries: 10, activeWithinMs: 300 };
}
