// Load gossip (docs/architecture.md §8): every node publishes its slots, free slots, running count,
// handlers and applied index on gossipsub topic meshrun/load/1, on change (at most once per
// period) and again every period so its entry stays fresh. Inbound reports are validated in a
// gossipsub topic validator, so an invalid or forged report is neither recorded nor forwarded:
// the sender (the message's signed author, gossipsub runs with StrictSign) must be a member of the
// cluster, the report must speak for that sender only (`node` equal to it), it must be
// size-bounded JSON with every number within bounds (load-report.ts), and each sender is rate
// limited. The result is a table of live nodes that the claim policy reads.
import './polyfill.js';
import { TopicValidatorResult, type Message, type PeerId, type PubSub } from '@libp2p/interface';
import type { LoadReport } from './types.js';
import { LoadReportError, OwnReportCheck, decodeLoadReport, encodeLoadReport, sameLoad } from './load-report.js';

export { LoadReportError } from './load-report.js';

export const LOAD_TOPIC = 'meshrun/load/1';

/** A cluster is tens of nodes; beyond this, new senders are ignored rather than remembered. */
const MAX_TABLE_ENTRIES = 4096;

export type LiveLoad = LoadReport & { readonly receivedAt: number };

/** What load gossip uses of the libp2p node (js-libp2p's components style): its gossipsub. */
export interface LoadGossipComponents {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- see MeshServices in host.ts
  readonly pubsub: Pick<PubSub, 'publish' | 'subscribe' | 'unsubscribe' | 'topicValidators'>;
}

export interface LoadGossipInit {
  /** This node's id (its peer id string): the only `node` it may publish. */
  readonly self: string;
  /**
   * Whether `id` is a member of the cluster (a voter or learner of the current configuration):
   * only members' reports are believed. Called for every inbound message, so it must be cheap.
   */
  readonly isMember: (id: string) => boolean;
  /** Re-publish period, and the shortest interval between two publications. Default 1000 ms. */
  readonly periodMs?: number;
  /** An entry not refreshed for this long is dropped from the table. Default 3 periods. */
  readonly staleAfterMs?: number;
  /** Clock for receivedAt, expiry and rate limits (ms). Default Date.now. */
  readonly now?: () => number;
  /** Reports accepted per sender: a bucket of `burst`, refilled at `perSecond`. Default 5 and 5. */
  readonly rateLimit?: { readonly burst: number; readonly perSecond: number };
}

export interface LoadGossipStats {
  published: number;
  publishErrors: number;
  accepted: number;
  /** Not a signed message, too large, not JSON, or not a valid report. */
  rejectedInvalid: number;
  /** A report whose `node` is not its signed sender. */
  rejectedForged: number;
  /** A signed message from a peer that is not a member of the cluster. */
  rejectedNotMember: number;
  droppedRateLimited: number;
  /** Older (by the sender's `at`) than the entry already held. */
  droppedOutdated: number;
  /** The table is full of other live senders. */
  droppedTableFull: number;
  expired: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

function positive(v: number | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${what} must be a positive number, got ${String(v)}`);
  return v;
}

/**
 * Publishes this node's load and keeps the table of live nodes, from `start()` (it subscribes to
 * the topic and installs the validator) until `stop()`.
 */
export class LoadGossip {
  readonly stats: LoadGossipStats = {
    published: 0,
    publishErrors: 0,
    accepted: 0,
    rejectedInvalid: 0,
    rejectedForged: 0,
    rejectedNotMember: 0,
    droppedRateLimited: 0,
    droppedOutdated: 0,
    droppedTableFull: 0,
    expired: 0,
  };
  private readonly pubsub: LoadGossipComponents['pubsub'];
  private readonly self: string;
  private readonly isMember: (id: string) => boolean;
  private readonly periodMs: number;
  private readonly staleAfterMs: number;
  private readonly now: () => number;
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly entries = new Map<string, LiveLoad>();
  /** Never swept: the latest report of each sender; the oldest is forgotten when it is full. */
  private readonly heard = new Map<string, LiveLoad>();
  private readonly buckets = new Map<string, Bucket>();
  private latest: LoadReport | null = null;
  /** Called on every applied entry: zod runs only when the report's texts change (load-report.ts). */
  private readonly ownCheck = new OwnReportCheck();
  private lastSentAt = -Infinity;
  private lastAt = 0;
  private pending: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The validator as installed, so stop removes only its own. */
  private readonly validator = (source: PeerId, msg: Message): TopicValidatorResult => this.validate(source, msg);

  constructor(components: LoadGossipComponents, init: LoadGossipInit) {
    this.pubsub = components.pubsub;
    this.self = init.self;
    this.isMember = init.isMember;
    this.periodMs = positive(init.periodMs, 1000, 'periodMs');
    this.staleAfterMs = positive(init.staleAfterMs, 3 * this.periodMs, 'staleAfterMs');
    this.now = init.now ?? Date.now;
    this.burst = positive(init.rateLimit?.burst, 5, 'rateLimit.burst');
    this.perSecond = positive(init.rateLimit?.perSecond, 5, 'rateLimit.perSecond');
  }

  start(): void {
    if (this.timer !== null || this.stopped) return;
    this.pubsub.topicValidators.set(LOAD_TOPIC, this.validator);
    this.pubsub.subscribe(LOAD_TOPIC);
    this.timer = setInterval(() => {
      this.sweep();
      // Re-publish unless something went out in the last half period (a change just did).
      if (this.latest !== null && this.now() - this.lastSentAt >= this.periodMs / 2) this.send();
    }, this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.pending !== null) clearTimeout(this.pending);
    this.pending = null;
    try {
      this.pubsub.unsubscribe(LOAD_TOPIC);
    } catch {
      // the host may already be stopped
    }
    if (this.pubsub.topicValidators.get(LOAD_TOPIC) === this.validator) this.pubsub.topicValidators.delete(LOAD_TOPIC);
  }

  /** Records this node's current load; sends it now if it changed and the period allows, else soon. */
  publish(report: LoadReport): void {
    if (this.stopped) return;
    if (report.node !== this.self)
      throw new LoadReportError(`load report for ${report.node}: this node can only publish its own (${this.self})`);
    this.ownCheck.check(report);
    const changed = this.latest === null || !sameLoad(this.latest, report);
    this.latest = { ...report, handlers: [...report.handlers] };
    if (!changed) return;
    const wait = this.lastSentAt + this.periodMs - this.now();
    if (wait <= 0) {
      this.send();
      return;
    }
    if (this.pending === null) {
      this.pending = setTimeout(() => {
        this.pending = null;
        this.send();
      }, wait);
      this.pending.unref();
    }
  }

  /**
   * Live entries by node id, including this node's own last report: a snapshot, filtered by
   * staleAfterMs at the time of the call.
   */
  table(): ReadonlyMap<string, LiveLoad> {
    const t = this.now();
    const out = new Map<string, LiveLoad>();
    for (const [id, e] of this.entries) if (this.live(e, t)) out.set(id, e);
    return out;
  }

  /**
   * The latest report of every sender heard since this node started, stale ones included (a node
   * that went silent keeps its name and the time it was last heard), at most 4,096 senders.
   */
  lastHeard(): ReadonlyMap<string, LiveLoad> {
    return new Map(this.heard);
  }

  private remember(id: string, e: LiveLoad): void {
    this.heard.delete(id);
    if (this.heard.size >= MAX_TABLE_ENTRIES) {
      // Insertion order is the order of the latest reports: the first key is the longest silent.
      const oldest = this.heard.keys().next().value;
      if (oldest !== undefined) this.heard.delete(oldest);
    }
    this.heard.set(id, e);
  }

  private live(e: LiveLoad, t: number): boolean {
    return t - e.receivedAt <= this.staleAfterMs;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, e] of this.entries) {
      if (!this.live(e, t)) {
        this.entries.delete(id);
        this.stats.expired++;
      }
    }
    // Buckets of quiet senders are full again; forgetting them changes nothing.
    for (const [id, b] of this.buckets) if (((t - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(id);
  }

  private allow(sender: string): boolean {
    const t = this.now();
    let b = this.buckets.get(sender);
    if (b === undefined) {
      if (this.buckets.size >= MAX_TABLE_ENTRIES) this.sweep();
      b = { tokens: this.burst, at: t };
      this.buckets.set(sender, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private validate(_source: PeerId, msg: Message): TopicValidatorResult {
    const stats = this.stats;
    if (this.stopped) return TopicValidatorResult.Ignore;
    // Only signed messages say who wrote them (gossipsub has checked the signature by now).
    if (msg.type !== 'signed') {
      stats.rejectedInvalid++;
      return TopicValidatorResult.Reject;
    }
    const sender = msg.from.toString();
    if (sender === this.self) return TopicValidatorResult.Ignore;
    // Ignore, not Reject: the relay that handed it over may be a member whose view of the
    // membership differs from ours for a moment (a joiner just admitted), and Reject would lower
    // that relay's gossipsub score. Ignored messages are not forwarded either.
    if (!this.isMember(sender)) {
      stats.rejectedNotMember++;
      return TopicValidatorResult.Ignore;
    }
    // Before parsing: a flooding sender costs a map lookup per message, not a JSON parse.
    if (!this.allow(sender)) {
      stats.droppedRateLimited++;
      return TopicValidatorResult.Ignore;
    }
    const report = decodeLoadReport(msg.data);
    if (report === null) {
      stats.rejectedInvalid++;
      return TopicValidatorResult.Reject;
    }
    if (report.node !== sender) {
      stats.rejectedForged++;
      return TopicValidatorResult.Reject;
    }
    const t = this.now();
    const held = this.entries.get(sender);
    if (held !== undefined && this.live(held, t) && report.at < held.at) {
      // Delivered late, after a newer one: keep the newer.
      stats.droppedOutdated++;
      return TopicValidatorResult.Ignore;
    }
    if (held === undefined && this.entries.size >= MAX_TABLE_ENTRIES) {
      this.sweep();
      if (this.entries.size >= MAX_TABLE_ENTRIES) {
        stats.droppedTableFull++;
        return TopicValidatorResult.Ignore;
      }
    }
    const entry = { ...report, receivedAt: t };
    this.entries.set(sender, entry);
    this.remember(sender, entry);
    stats.accepted++;
    return TopicValidatorResult.Accept;
  }

  private send(): void {
    if (this.stopped || this.latest === null) return;
    if (this.pending !== null) {
      // This sends the latest report anyway; a pending change-triggered send would repeat it.
      clearTimeout(this.pending);
      this.pending = null;
    }
    const t = this.now();
    // `at` orders a node's own reports: never let it go backwards, even if the wall clock does.
    this.lastAt = Math.max(this.lastAt, Math.floor(t));
    const report: LoadReport = { ...this.latest, at: this.lastAt };
    this.lastSentAt = t;
    const own = { ...report, receivedAt: t };
    this.entries.set(this.self, own);
    this.remember(this.self, own);
    const data = encodeLoadReport(report);
    this.stats.published++;
    this.pubsub.publish(LOAD_TOPIC, data).catch(() => {
      this.stats.publishErrors++;
    });
  }
}
