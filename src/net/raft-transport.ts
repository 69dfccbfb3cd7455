// Raft messages over libp2p: protocol /meshrun/raft/1, one long-lived outbound stream per peer,
// varint-length-prefixed frames each holding one encoded Message (the core encodes and decodes;
// this module only moves bytes). Raft tolerates loss, delay and reordering, so the transport
// prefers dropping (and counting) to blocking: `send` only appends to a bounded per-peer queue,
// and one async writer per peer drains it, dialling and redialling with backoff as needed.
import './polyfill.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { lpStream, type LengthPrefixedStream } from 'it-length-prefixed-stream';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Connection, Libp2p, PeerId, Stream, IncomingStreamData } from '@libp2p/interface';
import type { NodeId } from '../raft/types.js';
import type { RaftTransport, TransportStats } from './types.js';
import { FrameDecoder, FrameError } from './frame-decoder.js';
import { peerIdIn, transportPart } from './addresses.js';

export const RAFT_PROTOCOL = '/meshrun/raft/1';

/**
 * What the transport uses of the libp2p node, in js-libp2p's components style: these parts only,
 * typed, rather than the whole node (a MeshHost is one).
 */
export type RaftTransportComponents = Pick<
  Libp2p,
  | 'peerId'
  | 'status'
  | 'handle'
  | 'unhandle'
  | 'getProtocols'
  | 'dialProtocol'
  | 'getConnections'
  | 'peerStore'
  | 'addEventListener'
  | 'removeEventListener'
>;

/** How the transport behaves (js-libp2p's `init`); every field has a default. */
export interface RaftTransportInit {
  /** Largest frame accepted inbound and sent outbound. Default 4 MiB (append batches are at most 1 MiB). */
  readonly maxFrameBytes?: number;
  /** Frames queued per peer before new ones are dropped. Default 1024. */
  readonly queueLimit?: number;
  /** Bytes queued per peer before new frames are dropped. Default 32 MiB. */
  readonly queueBytesLimit?: number;
  /** Most bytes gathered into one stream write (several frames at once). Default 256 KiB. */
  readonly batchBytes?: number;
  /**
   * First redial delay after a failure; doubles up to backoffMaxMs, reset by a successful dial and
   * by any new libp2p connection to the peer (whoever dialled it: the peer is reachable now).
   */
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /** Bound on one dial plus protocol negotiation. Default 5 s. */
  readonly dialTimeoutMs?: number;
  /**
   * While a peer is unreachable, queued frames older than this are discarded (they are stale to
   * Raft by then), so a peer that is gone for good ends up with an empty queue and no more
   * redials until something is sent to it again. Default 10 s.
   */
  readonly queueTtlMs?: number;
  /** When set, an inbound frame from a peer it refuses is discarded unread (the test-only partition gate). */
  readonly accept?: (from: NodeId) => boolean;
}

/** TransportStats plus counters useful when diagnosing a node. */
export interface RaftTransportStats extends TransportStats {
  /** Outgoing frames larger than maxFrameBytes, refused by `send` (the peer would reset the stream). */
  droppedTooLarge: number;
  /** Frames lost because the stream broke while (or before) they were written. */
  droppedWriteFailed: number;
  /** Frames discarded after waiting longer than queueTtlMs for an unreachable peer. */
  droppedExpired: number;
  /** Inbound streams reset because a length prefix was malformed (not a size problem). */
  droppedMalformed: number;
  /** Handler calls that threw (the frame is dropped, the stream keeps going). */
  handlerErrors: number;
  /** Outbound streams opened successfully (the first per peer, then each reconnect). */
  streamsOpened: number;
  inboundStreams: number;
  bytesSent: number;
  bytesReceived: number;
  /** Inbound frames discarded because `accept` refused their sender. */
  droppedRefused: number;
}

export type MeshRaftTransport = RaftTransport & { readonly stats: RaftTransportStats };

const DEFAULTS = {
  maxFrameBytes: 4 * 1024 * 1024,
  queueLimit: 1024,
  queueBytesLimit: 32 * 1024 * 1024,
  batchBytes: 256 * 1024,
  backoffMinMs: 50,
  backoffMaxMs: 2_000,
  dialTimeoutMs: 5_000,
  queueTtlMs: 10_000,
} as const;

/** A peer may hold at most this many of our protocol's streams per connection (one, plus a reconnect overlapping). */
const MAX_STREAMS_PER_CONNECTION = 8;

/** Per-peer outbound state: queue, stream, backoff. */
interface Link {
  readonly id: NodeId;
  peerId: PeerId | null;
  queue: Uint8Array[];
  /** When each queued frame was sent (performance.now()), parallel to `queue`. */
  queuedAt: number[];
  queuedBytes: number;
  stream: Stream | null;
  lp: LengthPrefixedStream<Stream> | null;
  /** A writer is scheduled or running; `send` only schedules one when this is false. */
  active: boolean;
  backoffMs: number;
  /** performance.now() before which no dial is attempted. */
  retryAt: number;
  /** Ends the writer's backoff sleep early (a connection to the peer opened); set while it sleeps. */
  wake: AbortController | null;
}

function writable(stream: Stream): boolean {
  return stream.status === 'open' && (stream.writeStatus === 'ready' || stream.writeStatus === 'writing');
}

function positiveInt(v: number | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * Serves /meshrun/raft/1 from `start()` until `stop()`. Frames for a peer go over one stream, opened
 * on the first send; see RaftTransport for the guarantees.
 */
export class StreamTransport implements MeshRaftTransport {
  readonly stats: RaftTransportStats = {
    framesSent: 0,
    framesReceived: 0,
    droppedQueueFull: 0,
    droppedOversize: 0,
    droppedNoRoute: 0,
    dialFailures: 0,
    droppedTooLarge: 0,
    droppedWriteFailed: 0,
    droppedExpired: 0,
    droppedMalformed: 0,
    handlerErrors: 0,
    streamsOpened: 0,
    inboundStreams: 0,
    bytesSent: 0,
    bytesReceived: 0,
    droppedRefused: 0,
  };

  private readonly links = new Map<NodeId, Link>();
  private readonly inbound = new Set<Stream>();
  private readonly writers = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private handler: ((from: NodeId, frame: Uint8Array) => void) | null = null;
  private lookup: ((id: NodeId) => readonly string[] | undefined) | null = null;
  private stopped = false;
  private readonly self: string;
  private readonly cfg: Required<Omit<RaftTransportInit, 'accept'>>;
  private readonly accept: ((from: NodeId) => boolean) | null;

  private readonly host: RaftTransportComponents;

  constructor(components: RaftTransportComponents, opts: RaftTransportInit = {}) {
    this.host = components;
    this.self = components.peerId.toString();
    this.cfg = {
      maxFrameBytes: positiveInt(opts.maxFrameBytes, DEFAULTS.maxFrameBytes, 'maxFrameBytes'),
      queueLimit: positiveInt(opts.queueLimit, DEFAULTS.queueLimit, 'queueLimit'),
      queueBytesLimit: positiveInt(opts.queueBytesLimit, DEFAULTS.queueBytesLimit, 'queueBytesLimit'),
      batchBytes: positiveInt(opts.batchBytes, DEFAULTS.batchBytes, 'batchBytes'),
      backoffMinMs: positiveInt(opts.backoffMinMs, DEFAULTS.backoffMinMs, 'backoffMinMs'),
      backoffMaxMs: positiveInt(opts.backoffMaxMs, DEFAULTS.backoffMaxMs, 'backoffMaxMs'),
      dialTimeoutMs: positiveInt(opts.dialTimeoutMs, DEFAULTS.dialTimeoutMs, 'dialTimeoutMs'),
      queueTtlMs: positiveInt(opts.queueTtlMs, DEFAULTS.queueTtlMs, 'queueTtlMs'),
    };
    this.accept = opts.accept ?? null;
  }

  start(): void {
    // libp2p registers the handler synchronously inside handle() (only its peer-store update is
    // async), so inbound streams are served from here on and creation can stay synchronous.
    if (this.host.getProtocols().includes(RAFT_PROTOCOL)) {
      throw new Error(`a handler for ${RAFT_PROTOCOL} is already registered on this host`);
    }
    this.host
      .handle(RAFT_PROTOCOL, (data) => void this.serve(data), {
        maxInboundStreams: MAX_STREAMS_PER_CONNECTION,
        maxOutboundStreams: MAX_STREAMS_PER_CONNECTION,
      })
      .catch(() => undefined);
    this.host.addEventListener('connection:open', this.onConnectionOpen);
  }

  /**
   * A new connection to a peer (ours or theirs, e.g. a node restarted on another port dialling
   * us): whatever the backoff says, the peer is reachable now, so the next send dials at once.
   */
  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const link = this.links.get(evt.detail.remotePeer.toString());
    if (link === undefined || link.stream !== null) return;
    link.backoffMs = this.cfg.backoffMinMs;
    link.retryAt = 0;
    link.wake?.abort();
  };

  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.handler = handler;
  }

  setAddressBook(lookup: (id: NodeId) => readonly string[] | undefined): void {
    this.lookup = lookup;
  }

  // ---------------------------------------------------------------------------------------------
  // Outbound

  send(to: NodeId, frame: Uint8Array): void {
    if (this.stopped) return;
    if (to === this.self) {
      this.stats.droppedNoRoute++;
      return;
    }
    if (frame.length > this.cfg.maxFrameBytes) {
      this.stats.droppedTooLarge++;
      return;
    }
    let link = this.links.get(to);
    if (link === undefined) {
      link = {
        id: to,
        peerId: null,
        queue: [],
        queuedAt: [],
        queuedBytes: 0,
        stream: null,
        lp: null,
        active: false,
        backoffMs: this.cfg.backoffMinMs,
        retryAt: 0,
        wake: null,
      };
      this.links.set(to, link);
    }
    if (link.queue.length >= this.cfg.queueLimit || link.queuedBytes + frame.length > this.cfg.queueBytesLimit) {
      this.stats.droppedQueueFull++;
      return;
    }
    link.queue.push(frame);
    link.queuedAt.push(performance.now());
    link.queuedBytes += frame.length;
    if (!link.active) {
      link.active = true;
      // A microtask, not a direct call: the Raft loop usually sends a whole Ready's messages in
      // one synchronous burst, and starting the writer after it lets one write carry them all.
      const l = link;
      queueMicrotask(() => {
        const p = this.drain(l).finally(() => this.writers.delete(p));
        this.writers.add(p);
      });
    }
  }

  /** The writer: runs while the peer's queue has frames; never throws. */
  private async drain(link: Link): Promise<void> {
    try {
      while (!this.stopped && link.queue.length > 0) {
        if (link.stream === null || link.lp === null || !writable(link.stream)) {
          this.dropStream(link);
          if (this.host.status !== 'started') {
            // The host is going away (the node stops it before or after us): nothing will get out.
            this.stats.droppedNoRoute += this.clearQueue(link);
            break;
          }
          this.stats.droppedExpired += this.expire(link);
          if (link.queue.length === 0) break;
          const wait = link.retryAt - performance.now();
          if (wait > 0) {
            const wake = new AbortController();
            link.wake = wake;
            await sleep(wait, undefined, { signal: AbortSignal.any([this.abort.signal, wake.signal]) }).catch(() => undefined);
            link.wake = null;
            continue;
          }
          await this.connect(link);
          continue;
        }
        const batch = this.takeBatch(link);
        let bytes = 0;
        for (const f of batch) bytes += f.length;
        try {
          await link.lp.writeV(batch, { signal: this.abort.signal });
          this.stats.framesSent += batch.length;
          this.stats.bytesSent += bytes;
        } catch (err) {
          this.stats.droppedWriteFailed += batch.length;
          this.failStream(link, err);
        }
      }
    } catch {
      // Nothing above should throw; if something does, the peer's next send starts a new writer.
    } finally {
      link.active = false;
      if (this.stopped) this.clearQueue(link);
    }
  }

  private takeBatch(link: Link): Uint8Array[] {
    let n = 0;
    let bytes = 0;
    // At least one frame, then more while they fit in batchBytes.
    for (const frame of link.queue) {
      const len = frame.length;
      if (n > 0 && bytes + len > this.cfg.batchBytes) break;
      bytes += len;
      n++;
    }
    const batch = link.queue.splice(0, n);
    link.queuedAt.splice(0, n);
    link.queuedBytes -= bytes;
    return batch;
  }

  /** Drops frames that waited longer than queueTtlMs (oldest first); returns how many. */
  private expire(link: Link): number {
    const cutoff = performance.now() - this.cfg.queueTtlMs;
    let n = 0;
    for (const queuedAt of link.queuedAt) {
      if (queuedAt >= cutoff) break;
      n++;
    }
    if (n === 0) return 0;
    for (const f of link.queue.splice(0, n)) link.queuedBytes -= f.length;
    link.queuedAt.splice(0, n);
    return n;
  }

  private clearQueue(link: Link): number {
    const n = link.queue.length;
    link.queue = [];
    link.queuedAt = [];
    link.queuedBytes = 0;
    return n;
  }

  /** Opens the peer's stream, or records the failure and schedules the next attempt. */
  private async connect(link: Link): Promise<void> {
    if (link.peerId === null) {
      try {
        link.peerId = peerIdFromString(link.id);
      } catch {
        // Not a peer id at all: nothing will ever route there.
        this.stats.droppedNoRoute += this.clearQueue(link);
        return;
      }
    }
    const peerId = link.peerId;
    if (!(await this.hasRoute(link, peerId))) {
      this.stats.droppedNoRoute += this.clearQueue(link);
      this.scheduleRetry(link);
      return;
    }
    if (this.stopped) return;
    try {
      const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.cfg.dialTimeoutMs)]);
      const stream = await this.host.dialProtocol(peerId, RAFT_PROTOCOL, { signal });
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have run during the dial
      if (this.stopped) {
        stream.abort(new Error('raft transport stopped'));
        return;
      }
      link.stream = stream;
      link.lp = lpStream(stream);
      link.backoffMs = this.cfg.backoffMinMs;
      link.retryAt = 0;
      this.stats.streamsOpened++;
    } catch {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have run during the dial
      if (this.stopped) return;
      this.stats.dialFailures++;
      this.scheduleRetry(link);
    }
  }

  /**
   * True if libp2p can reach the peer: connected already, or addresses known. Addresses from the
   * address book are merged into the peer store, so libp2p's dialler (which dedupes concurrent
   * dials and reuses connections) does the rest.
   */
  private async hasRoute(link: Link, peerId: PeerId): Promise<boolean> {
    if (this.host.getConnections(peerId).length > 0) return true;
    const addrs = this.addressesOf(link.id);
    if (addrs.length > 0) {
      try {
        await this.host.peerStore.merge(peerId, { multiaddrs: addrs });
        return true;
      } catch {
        // fall through to what the peer store already knows
      }
    }
    try {
      const peer = await this.host.peerStore.get(peerId);
      return peer.addresses.length > 0;
    } catch {
      return false; // not in the peer store at all
    }
  }

  /** The address book's entries for `id`, parsed, with a /p2p/ suffix stripped; bad ones skipped. */
  private addressesOf(id: NodeId): Multiaddr[] {
    let listed: readonly string[] | undefined;
    try {
      listed = this.lookup?.(id);
    } catch {
      listed = undefined; // a throwing lookup is the node's bug; do not let it kill the writer
    }
    const out: Multiaddr[] = [];
    for (const a of listed ?? []) {
      try {
        const ma = multiaddr(a);
        const pid = peerIdIn(ma);
        if (pid !== null && pid !== id) continue;
        out.push(transportPart(ma));
      } catch {
        // unparseable address: skip it
      }
    }
    return out;
  }

  private scheduleRetry(link: Link): void {
    link.retryAt = performance.now() + link.backoffMs;
    link.backoffMs = Math.min(link.backoffMs * 2, this.cfg.backoffMaxMs);
  }

  private failStream(link: Link, err: unknown): void {
    const stream = link.stream;
    link.stream = null;
    link.lp = null;
    if (stream !== null) stream.abort(err instanceof Error ? err : new Error(String(err)));
    this.scheduleRetry(link);
  }

  private dropStream(link: Link): void {
    if (link.stream !== null) link.stream.abort(new Error('raft stream no longer writable'));
    link.stream = null;
    link.lp = null;
  }

  // ---------------------------------------------------------------------------------------------
  // Inbound

  private async serve({ stream, connection }: IncomingStreamData): Promise<void> {
    if (this.stopped) {
      stream.abort(new Error('raft transport stopped'));
      return;
    }
    const from = connection.remotePeer.toString();
    this.inbound.add(stream);
    this.stats.inboundStreams++;
    const decoder = new FrameDecoder(this.cfg.maxFrameBytes);
    const deliver = (frame: Uint8Array): void => {
      // Asked per frame, not per stream: a rule set while the stream is open applies at once.
      if (this.accept !== null && !this.accept(from)) {
        this.stats.droppedRefused++;
        return;
      }
      this.stats.framesReceived++;
      this.stats.bytesReceived += frame.length;
      const handler = this.handler;
      if (handler === null) return;
      try {
        handler(from, frame);
      } catch {
        // The core validates frames; a throwing handler is a bug there, not a reason to stop reading.
        this.stats.handlerErrors++;
      }
    };
    try {
      for await (const list of stream.source) {
        // A Uint8ArrayList iterates over its buffers without copying them.
        for (const chunk of list) decoder.push(chunk, deliver);
      }
      // The sender closed its side: close ours, bounded, since a vanished peer never acknowledges.
      await stream.close({ signal: AbortSignal.timeout(1_000) }).catch((err: unknown) => {
        stream.abort(err instanceof Error ? err : new Error(String(err)));
      });
    } catch (err) {
      if (err instanceof FrameError) {
        if (err.oversize) this.stats.droppedOversize++;
        else this.stats.droppedMalformed++;
      }
      // Reset, not close: the sender then sees its stream fail and opens a fresh one.
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.inbound.delete(stream);
    }
  }

  // ---------------------------------------------------------------------------------------------

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.host.removeEventListener('connection:open', this.onConnectionOpen);
    await this.host.unhandle(RAFT_PROTOCOL).catch(() => undefined);
    const reason = new Error('raft transport stopped');
    for (const link of this.links.values()) {
      this.clearQueue(link);
      if (link.stream !== null) link.stream.abort(reason);
      link.stream = null;
      link.lp = null;
    }
    for (const stream of this.inbound) stream.abort(reason);
    this.inbound.clear();
    // Writers notice `stopped` at their next step; all their awaits are aborted above.
    await Promise.allSettled([...this.writers]);
  }
}
