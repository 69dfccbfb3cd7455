// The node's periodic housekeeping (once a second): the leader's membership decisions (promote,
// replace, trim; see membership.ts), and every member keeping its own replicated address current
// (a restart on another port, a new interface). Its timers and readings come from an injected
// clock, so the simulator runs it unchanged (docs/architecture.md §2).
import { errorMessage } from '../errors.js';
import type { NodeId } from '../raft/types.js';
import type { Clock, Timer } from '../worker/types.js';
import type { ClusterState } from './cluster-state.js';
import type { ConfChanger } from './conf-changer.js';
import type { RaftDriver } from './driver.js';
import { envelope, MAX_ADDRS } from './entry-envelope.js';
import { sameAddrs } from './join-handler.js';
import type { Logger } from './logger.js';
import { decideMembership, type MembershipPolicy } from './membership.js';

/** What the housekeeping uses (js-libp2p's components style): narrow, so the simulator can give its own. */
export interface MaintenanceComponents {
  readonly driver: Pick<RaftDriver, 'status' | 'takeLostAcknowledged' | 'requestPropose'>;
  /** The replicated address book (where each member can be dialled). */
  readonly state: Pick<ClusterState, 'addressesOf'>;
  readonly conf: Pick<ConfChanger, 'idle' | 'pending' | 'request'>;
  readonly log: Logger;
  /** When each peer was last heard from (ms on `clock`). */
  readonly lastHeard: ReadonlyMap<NodeId, number>;
  /** Its rounds and readings: a monotonic clock in a node (backgroundClock), the process clock in sim/. */
  readonly clock: Pick<Clock, 'now' | 'after'>;
  /** This node's current listen addresses (each ending in /p2p/<id>). */
  readonly selfAddrs: () => readonly string[];
  /**
   * Tells the cluster this node's addresses through the join protocol: members it can reach name
   * the leader, which this node then asks itself, and the leader replicates them (see
   * announce.ts). Resolves true once the leader answered ok.
   */
  readonly announce: (addrs: readonly string[]) => Promise<boolean>;
}

export interface MaintenanceInit {
  readonly policy: MembershipPolicy;
  /** How often a round runs. */
  readonly periodMs: number;
  /** Bound on one membership change started by the loop. */
  readonly changeTimeoutMs?: number;
}

/** Don't re-propose our address more often than this while the last proposal is in flight. */
const ADDRESS_RETRY_MS = 3000;
/** Without a leader for this long, a node whose replicated address is stale announces the new one. */
const LEADERLESS_ANNOUNCE_MS = 2000;
const ANNOUNCE_RETRY_MS = 5000;

export class Maintenance {
  private timer: Timer | null = null;
  private leaderSince: number | null = null;
  private lastAddressProposal = Number.NEGATIVE_INFINITY;
  private leaderlessSince: number | null = null;
  private lastAnnounce = Number.NEGATIVE_INFINITY;
  /** Voters the core found with a lost or older disk, until they are demoted or gone. */
  private readonly lostDisk = new Set<NodeId>();
  private stopped = false;

  constructor(
    private readonly deps: MaintenanceComponents,
    private readonly init: MaintenanceInit,
  ) {}

  start(): void {
    const { periodMs } = this.init;
    const loop = (): void => {
      // Re-armed before the round, as an interval timer is.
      this.timer = this.deps.clock.after(periodMs, loop);
      this.round();
    };
    // A first round soon after start: a new cluster's first node publishes its address at once.
    this.timer = this.deps.clock.after(Math.min(200, periodMs), loop);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  round(): void {
    if (this.stopped) return;
    try {
      this.refreshOwnAddress();
      this.membership();
    } catch (err) {
      this.deps.log.error({ err }, 'maintenance round failed');
    }
  }

  private refreshOwnAddress(): void {
    const { driver, state, log } = this.deps;
    const st = driver.status();
    const { voters, learners } = st.membership.conf;
    if (!voters.includes(st.id) && !learners.includes(st.id)) return;
    const addrs = this.deps.selfAddrs().slice(0, MAX_ADDRS);
    const stale = addrs.length > 0 && !sameAddrs(state.addressesOf(st.id), addrs);
    const t = this.deps.clock.now();
    if (st.leader !== null) {
      this.leaderlessSince = null;
      // Only once caught up with what is known committed: an older entry of ours may still be on its way.
      if (!stale || st.applied < st.commit || t - this.lastAddressProposal < ADDRESS_RETRY_MS) return;
      this.lastAddressProposal = t;
      log.info({ addrs }, "publishing this node's addresses");
      driver.requestPropose(
        envelope({ kind: 'address', id: st.id, addrs }),
        { timeoutMs: ADDRESS_RETRY_MS },
        {
          resolve: () => log.info({ addrs }, "this node's addresses are replicated"),
          reject: (err) => log.info({ addrs, err: errorMessage(err) }, "this node's addresses were not replicated; trying again"),
        },
      );
      return;
    }
    // No leader: if the others may only know an old address of ours (a restart on another port),
    // a leader dialling it would never find us, and we cannot propose without a leader. When that
    // leader's address in our book is stale too, neither side can reach the other: announce the
    // new address through any member we can reach, which names the leader for us to ask.
    this.leaderlessSince ??= t;
    if (!stale || t - this.leaderlessSince < LEADERLESS_ANNOUNCE_MS || t - this.lastAnnounce < ANNOUNCE_RETRY_MS) return;
    this.lastAnnounce = t;
    this.deps.log.info({ addrs }, "no leader heard: announcing this node's addresses through the members it can reach");
    this.deps.announce(addrs).then(
      (ok) => this.deps.log.info({ ok }, 'address announcement finished'),
      (err: unknown) => this.deps.log.warn({ err: errorMessage(err) }, 'address announcement failed'),
    );
  }

  private membership(): void {
    const { driver, state, conf } = this.deps;
    const { policy } = this.init;
    const st = driver.status();
    if (st.role !== 'leader' || st.progress === null) {
      this.leaderSince = null;
      return;
    }
    const t = this.deps.clock.now();
    if (this.leaderSince === null) this.leaderSince = t;
    for (const id of driver.takeLostAcknowledged()) {
      if (!this.lostDisk.has(id))
        this.deps.log.warn({ node: id }, 'a follower holds less of the log than it acknowledged (lost or restored disk)');
      this.lostDisk.add(id);
    }
    for (const id of this.lostDisk) if (!st.membership.conf.voters.includes(id)) this.lostDisk.delete(id);
    if (!conf.idle) return;
    // A new leader has not had the chance to hear from everyone: nobody counts as silent for
    // longer than this node has led (followers do not talk to each other).
    const since = this.leaderSince;
    const lastHeard = new Map<NodeId, number>();
    for (const id of [...st.membership.conf.voters, ...st.membership.conf.learners]) {
      lastHeard.set(id, Math.max(this.deps.lastHeard.get(id) ?? since, since));
    }
    const action = decideMembership(
      {
        self: st.id,
        conf: st.membership.conf,
        lastIndex: st.lastIndex,
        progress: st.progress,
        confPending: conf.pending(st.applied),
        hasAddress: (id) => (state.addressesOf(id)?.length ?? 0) > 0,
        lastHeard,
        now: t,
        ledForMs: t - since,
        lostDisk: this.lostDisk,
      },
      policy,
    );
    if (action === null) return;
    const cc = { type: action.type === 'promote' ? ('addVoter' as const) : ('addLearner' as const), node: action.node };
    this.deps.log.info({ action: action.type, node: action.node, why: action.why }, 'changing the membership');
    conf.request(cc, this.init.changeTimeoutMs ?? 10_000, {
      resolve: () => undefined,
      reject: (err) =>
        this.deps.log.warn({ action: action.type, node: action.node, err: errorMessage(err) }, 'membership change did not complete'),
    });
  }
}
