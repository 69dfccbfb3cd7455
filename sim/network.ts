import type { Message, NodeId } from '../src/raft/types.js';
import type { SeededRng } from '../src/raft/rng.js';
import { describeMessage, isRoutine } from './describe.js';
import type { EventQueue } from './events.js';
import type { Trace } from './trace.js';
import { toForgedWire, toWire, type Wire } from './wire.js';

export interface NetParams {
  /** Mean one-way delay in ms. */
  delayMean: number;
  /** When false each directed link is FIFO, like one TCP stream; when true jitter reorders. */
  reorder: boolean;
  /** Probability that a message is lost. */
  loss: number;
  /** Probability that a message is delivered twice. */
  dup: number;
}

export interface NetStats {
  sent: number;
  delivered: number;
  lost: number;
  blocked: number;
  duplicated: number;
  /** Encoded bytes put on the wire (duplicates counted once). */
  bytes: number;
}

/**
 * A simulated datagram network between nodes. Delivery is scheduled on the event queue; blocked
 * links (partitions) are checked both when a message leaves and when it would arrive, so a
 * partition also eats what was in flight.
 */
export class SimNetwork {
  readonly stats: NetStats = { sent: 0, delivered: 0, lost: 0, blocked: 0, duplicated: 0, bytes: 0 };
  /** Per-node traffic, kept only when set (the sim-scale benchmark reads the leader's). */
  tally: NetTally | null = null;
  /** Directed link -> how many active faults block it (partitions may overlap). */
  private readonly blocked = new Map<string, number>();
  /** Per directed link: the latest scheduled arrival, to keep FIFO links FIFO. */
  private readonly lastArrival = new Map<string, number>();

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: SeededRng,
    readonly params: NetParams,
    private readonly trace: Trace,
    private readonly deliver: (w: Wire, to: NodeId, sender: NodeId) => void,
  ) {}

  send(m: Message): void {
    this.post(m, m.from);
  }

  /**
   * A frame put on the wire by `sender`, which need not be the `from` it claims: the adversary's
   * forgeries. It travels like any other (partitions, loss, delay, encoding); the receiver learns
   * the authenticated sender, as the production transport does (RaftNode.stepEncoded).
   */
  inject(m: Message, sender: NodeId): void {
    this.post(m, sender, toForgedWire);
  }

  private post(m: Message, sender: NodeId, encode: (m: Message) => Uint8Array = toWire): void {
    this.stats.sent++;
    if (this.isBlocked(sender, m.to)) {
      this.stats.blocked++;
      this.trace.add(this.queue.now, () => `drop(partition) ${describeMessage(m)}`, isRoutine(m));
      return;
    }
    if (this.rng.chance(this.params.loss)) {
      this.stats.lost++;
      this.trace.add(this.queue.now, () => `drop(loss) ${describeMessage(m)}`, isRoutine(m));
      return;
    }
    const w = encode(m);
    this.stats.bytes += w.length;
    if (this.tally) tallyOf(this.tally, sender).sent.add(w.length);
    this.schedule(w, m, sender);
    if (this.rng.chance(this.params.dup)) {
      this.stats.duplicated++;
      this.schedule(w, m, sender);
    }
  }

  block(from: NodeId, to: NodeId): void {
    const k = linkKey(from, to);
    this.blocked.set(k, (this.blocked.get(k) ?? 0) + 1);
  }

  unblock(from: NodeId, to: NodeId): void {
    const k = linkKey(from, to);
    const n = this.blocked.get(k);
    if (n === undefined) return;
    if (n <= 1) this.blocked.delete(k);
    else this.blocked.set(k, n - 1);
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.size > 0 && this.blocked.has(linkKey(from, to));
  }

  unblockAll(): void {
    this.blocked.clear();
  }

  blockedLinks(): string[] {
    return [...this.blocked.keys()].sort();
  }

  private schedule(w: Wire, m: Message, sender: NodeId): void {
    const mean = this.params.delayMean;
    let arrival = this.queue.now + 1 + Math.floor(mean * (0.25 + 1.5 * this.rng.float()));
    const key = linkKey(sender, m.to);
    if (!this.params.reorder) {
      arrival = Math.max(arrival, this.lastArrival.get(key) ?? 0);
      this.lastArrival.set(key, arrival);
    }
    this.queue.at(arrival, () => {
      if (this.isBlocked(sender, m.to)) {
        this.stats.blocked++;
        this.trace.add(this.queue.now, () => `drop(partition in flight) ${describeMessage(m)}`, isRoutine(m));
        return;
      }
      this.stats.delivered++;
      if (this.tally) tallyOf(this.tally, m.to).received.add(w.length);
      this.deliver(w, m.to, sender);
    });
  }
}

/** Messages and encoded bytes one node put on the wire and had delivered to it. */
export class Traffic {
  messages = 0;
  bytes = 0;
  add(bytes: number): void {
    this.messages++;
    this.bytes += bytes;
  }
}

export type NetTally = Map<NodeId, { readonly sent: Traffic; readonly received: Traffic }>;

function tallyOf(t: NetTally, id: NodeId): { readonly sent: Traffic; readonly received: Traffic } {
  let e = t.get(id);
  if (!e) {
    e = { sent: new Traffic(), received: new Traffic() };
    t.set(id, e);
  }
  return e;
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}
