// Load gossip (docs/architecture.md §8): every node publishes its slots, free slots, running count,
// handlers and applied index on gossipsub topic meshrun/load/1, on change (at most once per
// period) and again every period so its entry stays fresh. Inbound reports are validated in a
// gossipsub topic validator, so an invalid or forged report is neither recorded nor forwarded:
// the sender (the message's signed author, gossipsub runs with StrictSign) must be a member of the
// cluster, the report must speak for that sender only (`node` equal to it), it must be
// size-bounded JSON with every number within bounds (load-report.ts), and each sender is rate
// limited. The result is a table of live nodes that the claim policy reads.
import './polyfill.js';
import { TopicValidatorResult, type Libp2p, type Message, type PeerId, type PubSub } from '@libp2p/interface';
import type { LoadReport } from './types.js';
import { LoadReportError, checkOwnReport, decodeLoadReport, encodeLoadReport, sameLoad } from './load-report.js';

export { LoadReportError } from './load-report.js';

export const LOAD_TOPIC = 'meshrun/load/1';

/** A cluster is tens of nodes; beyond this, new senders are ignored rather than remembered. */
const MAX_TABLE_ENTRIES = 4096;

export type LiveLoad = LoadReport & { readonly receivedAt: number };

export interface LoadGossipOptions {
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

export interface LoadGossip {
  /** Records this node's current load; sends it now if it changed and the period allows, else soon. */
  publish(report: LoadReport): void;
  /**
   * Live entries by node id, including this node's own last report: a snapshot, filtered by
   * staleAfterMs at the time of the call.
   */
  table(): ReadonlyMap<string, LiveLoad>;
  /**
   * The latest report of every sender heard since this node started, stale ones included (a node
   * that went silent keeps its name and the time it was last heard), at most 4,096 senders.
   */
  lastHeard(): ReadonlyMap<string, LiveLoad>;
  stop(): void;
  readonly stats: LoadGossipStats;
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

// eslint-disable-next-line @typescript-eslint/no-deprecated -- see MeshServices in host.ts
export function createLoadGossip(host: Libp2p<{ pubsub: PubSub }>, opts: LoadGossipOptions): LoadGossip {
  const pubsub = host.services.pubsub;
  const self = opts.self;
  const periodMs = positive(opts.periodMs, 1000, 'periodMs');
  const staleAfterMs = positive(opts.staleAfterMs, 3 * periodMs, 'staleAfterMs');
  const now = opts.now ?? Date.now;
  const burst = positive(opts.rateLimit?.burst, 5, 'rateLimit.burst');
  const perSecond = positive(opts.rateLimit?.perSecond, 5, 'rateLimit.perSecond');

  const stats: LoadGossipStats = {
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
  const entries = new Map<string, LiveLoad>();
  /** Never swept: the latest report of each sender; the oldest is forgotten when it is full. */
  const heard = new Map<string, LiveLoad>();
  const remember = (id: string, e: LiveLoad): void => {
    heard.delete(id);
    if (heard.size >= MAX_TABLE_ENTRIES) {
      // Insertion order is the order of the latest reports: the first key is the longest silent.
      const oldest = heard.keys().next().value;
      if (oldest !== undefined) heard.delete(oldest);
    }
    heard.set(id, e);
  };
  const buckets = new Map<string, Bucket>();
  let latest: LoadReport | null = null;
  let lastSentAt = -Infinity;
  let lastAt = 0;
  let pending: NodeJS.Timeout | null = null;
  let stopped = false;

  const live = (e: LiveLoad, t: number): boolean => t - e.receivedAt <= staleAfterMs;

  const sweep = (): void => {
    const t = now();
    for (const [id, e] of entries) {
      if (!live(e, t)) {
        entries.delete(id);
        stats.expired++;
      }
    }
    // Buckets of quiet senders are full again; forgetting them changes nothing.
    for (const [id, b] of buckets) if ((t - b.at) / 1000 * perSecond >= burst) buckets.delete(id);
  };

  const allow = (sender: string): boolean => {
    const t = now();
    let b = buckets.get(sender);
    if (b === undefined) {
      if (buckets.size >= MAX_TABLE_ENTRIES) sweep();
      b = { tokens: burst, at: t };
      buckets.set(sender, b);
    }
    b.tokens = Math.min(burst, b.tokens + (Math.max(0, t - b.at) / 1000) * perSecond);
    b.at = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };

  const validate = (_source: PeerId, msg: Message): TopicValidatorResult => {
    if (stopped) return TopicValidatorResult.Ignore;
    // Only signed messages say who wrote them (gossipsub has checked the signature by now).
    if (msg.type !== 'signed') {
      stats.rejectedInvalid++;
      return TopicValidatorResult.Reject;
    }
    const sender = msg.from.toString();
    if (sender === self) return TopicValidatorResult.Ignore;
    // Ignore, not Reject: the relay that handed it over may be a member whose view of the
    // membership differs from ours for a moment (a joiner just admitted), and Reject would lower
    // that relay's gossipsub score. Ignored messages are not forwarded either.
    if (!opts.isMember(sender)) {
      stats.rejectedNotMember++;
      return TopicValidatorResult.Ignore;
    }
    // Before parsing: a flooding sender costs a map lookup per message, not a JSON parse.
    if (!allow(sender)) {
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
    const t = now();
    const held = entries.get(sender);
    if (held !== undefined && live(held, t) && report.at < held.at) {
      // Delivered late, after a newer one: keep the newer.
      stats.droppedOutdated++;
      return TopicValidatorResult.Ignore;
    }
    if (held === undefined && entries.size >= MAX_TABLE_ENTRIES) {
      sweep();
      if (entries.size >= MAX_TABLE_ENTRIES) {
        stats.droppedTableFull++;
        return TopicValidatorResult.Ignore;
      }
    }
    const entry = { ...report, receivedAt: t };
    entries.set(sender, entry);
    remember(sender, entry);
    stats.accepted++;
    return TopicValidatorResult.Accept;
  };

  const send = (): void => {
    if (stopped || latest === null) return;
    if (pending !== null) {
      // This sends the latest report anyway; a pending change-triggered send would repeat it.
      clearTimeout(pending);
      pending = null;
    }
    const t = now();
    // `at` orders a node's own reports: never let it go backwards, even if the wall clock does.
    lastAt = Math.max(lastAt, Math.floor(t));
    const report: LoadReport = { ...latest, at: lastAt };
    lastSentAt = t;
    const own = { ...report, receivedAt: t };
    entries.set(self, own);
    remember(self, own);
    const data = encodeLoadReport(report);
    stats.published++;
    pubsub.publish(LOAD_TOPIC, data).catch(() => {
      stats.publishErrors++;
    });
  };

  const publish = (report: LoadReport): void => {
    if (stopped) return;
    if (report.node !== self) throw new LoadReportError(`load report for ${report.node}: this node can only publish its own (${self})`);
    checkOwnReport(report);
    const changed = latest === null || !sameLoad(latest, report);
    latest = { ...report, handlers: [...report.handlers] };
    if (!changed) return;
    const wait = lastSentAt + periodMs - now();
    if (wait <= 0) {
      send();
      return;
    }
    if (pending === null) {
      pending = setTimeout(() => {
        pending = null;
        send();
      }, wait);
      pending.unref();
    }
  };

  pubsub.topicValidators.set(LOAD_TOPIC, validate);
  pubsub.subscribe(LOAD_TOPIC);

  const timer = setInterval(() => {
    sweep();
    // Re-publish unless something went out in the last half period (a change just did).
    if (latest !== null && now() - lastSentAt >= periodMs / 2) send();
  }, periodMs);
  timer.unref();

  return {
    publish,
    table(): ReadonlyMap<string, LiveLoad> {
      const t = now();
      const out = new Map<string, LiveLoad>();
      for (const [id, e] of entries) if (live(e, t)) out.set(id, e);
      return out;
    },
    lastHeard(): ReadonlyMap<string, LiveLoad> {
      return new Map(heard);
    },
    stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (pending !== null) clearTimeout(pending);
      pending = null;
      try {
        pubsub.unsubscribe(LOAD_TOPIC);
      } catch {
        // the host may already be stopped
      }
      if (pubsub.topicValidators.get(LOAD_TOPIC) === validate) pubsub.topicValidators.delete(LOAD_TOPIC);
    },
    stats,
  };
}
