// The adversary of test/process/adversary.test.ts: an in-process libp2p peer with a fresh identity
// (a new Ed25519 key, so a new peer id nobody in the cluster knows), built with the project's own
// host (src/net/host.ts), holding the cluster's swarm key or not. It speaks meshrun's protocols
// with the project's own encoders, so what it sends is well-formed and only the INTENT is hostile:
//   /meshrun/raft/1  varint-length-prefixed frames of encodeMessage (any message, any term);
//   /meshrun/join/1  requestJoin, for itself or naming someone else;
//   /meshrun/logs/1  requestLog;
//   meshrun/load/1   signed gossip load reports with whatever numbers it likes.
// It also serves /meshrun/raft/1 itself, so the answers a node sends back (appResp, voteResp,
// snapResp, the appends a leader sends a learner) are recorded in `received`.
import '../../src/net/polyfill.js';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import { lpStream, type LengthPrefixedStream } from 'it-length-prefixed-stream';
import { hostAddrs } from '../../src/net/addresses.js';
import { FrameDecoder } from '../../src/net/frame-decoder.js';
import { createHost, type MeshHost } from '../../src/net/host.js';
import { requestJoin } from '../../src/net/join.js';
import { LOAD_TOPIC } from '../../src/net/load-gossip.js';
import { encodeLoadReport } from '../../src/net/load-report.js';
import { requestLog, type LogAnswer, type LogRequest } from '../../src/net/logs.js';
import { RAFT_PROTOCOL } from '../../src/net/raft-transport.js';
import type { JoinRequest, JoinResponse, LoadReport } from '../../src/net/types.js';
import { decodeMessage, encodeConfChange, encodeMessage } from '../../src/raft/codec.js';
import type { ConfChange, Entry, Message, NodeId } from '../../src/raft/types.js';
import { encodeCommand } from '../../src/scheduler/command-codec.js';
import { normalizeDag } from '../../src/dag/parse.js';
import type { Command } from '../../src/scheduler/types.js';
import { encodeNodeEntry } from '../../src/node/entry-envelope.js';

/** Largest frame the attacker accepts back (the node's own limit). */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

/** A node as the attacker needs it: its peer id and a multiaddr ending in /p2p/<id>. */
export interface Target {
  readonly id: string;
  readonly addr: string;
}

export interface Received {
  readonly from: string;
  readonly msg: Message;
  readonly at: number;
}

export class Attacker {
  /** Every Raft message a node sent the attacker, decoded, in arrival order. */
  readonly received: Received[] = [];
  private readonly streams = new Map<string, { stream: Stream; lp: LengthPrefixedStream<Stream> }>();
  private stopped = false;

  private constructor(readonly host: MeshHost) {}

  /** A started attacker listening on 127.0.0.1 with a fresh identity; `swarmKey` as readSwarmKey returns it, or none. */
  static async start(opts: { swarmKey?: Uint8Array } = {}): Promise<Attacker> {
    const host = await createHost({
      privateKey: await generateKeyPair('Ed25519'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      ...(opts.swarmKey ? { swarmKey: opts.swarmKey } : {}),
    });
    const a = new Attacker(host);
    await host.handle(RAFT_PROTOCOL, ({ stream, connection }) => void a.serveRaft(stream, connection.remotePeer.toString()), {
      maxInboundStreams: 32,
      maxOutboundStreams: 32,
    });
    return a;
  }

  get id(): string {
    return this.host.peerId.toString();
  }

  /** Listen addresses, each ending in /p2p/<attacker id> (what a join request lists). */
  get addrs(): string[] {
    return hostAddrs(this.host);
  }

  /** The attacker's TCP port on 127.0.0.1 (to forge an address that leads here under another id). */
  get port(): number {
    const a = this.addrs[0];
    const m = a === undefined ? null : /\/tcp\/(\d+)/.exec(a);
    if (!m) throw new Error('the attacker has no TCP listen address');
    return Number(m[1]);
  }

  /** Opens a connection (pnet, noise, yamux) to `addr`; rejects when that is impossible (no swarm key, say). */
  async connect(addr: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.host.dial(multiaddr(addr), { signal: AbortSignal.timeout(timeoutMs) });
  }

  /** Whether a connection to `id` is open right now. */
  connectedTo(id: string): boolean {
    return this.host.getConnections(peerIdFromString(id)).length > 0;
  }

  /**
   * Writes `msgs` (encoded with the project's codec, or raw frames) on the attacker's stream of
   * /meshrun/raft/1 to `to`, in order, each awaited (yamux's flow control paces a flood). The
   * stream is opened on first use and kept; a broken one is reopened once. Never throws on the
   * node's account: a node that refuses (resets the stream, will not negotiate the protocol,
   * drops the connection) makes it return false, with the reason in `lastRefusal`; the frames
   * after that one are not sent. (An unencodable message is the test's bug and does throw.)
   */
  async sendRaft(to: Target, msgs: readonly (Message | Uint8Array)[]): Promise<boolean> {
    for (const m of msgs) {
      const frame = m instanceof Uint8Array ? m : encodeMessage(m);
      if (!(await this.writeFrame(to, frame))) return false;
    }
    return true;
  }

  /** Why the last write of sendRaft failed (the node refused it), or null. */
  lastRefusal: string | null = null;

  private async writeFrame(to: Target, frame: Uint8Array): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await (await this.raftStream(to)).lp.write(frame, { signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) });
        return true;
      } catch (err) {
        this.lastRefusal = err instanceof Error ? err.message : String(err);
        this.dropStream(to.id);
      }
    }
    return false;
  }

  /** Resolves with the first received message (already recorded at or after `since`, or arriving within `timeoutMs`) matching `pred`. */
  async waitForMessage(what: string, pred: (r: Received) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS, since = 0): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find((r) => r.at >= since && pred(r));
      if (hit) return hit;
      if (Date.now() >= deadline)
        throw new Error(`the attacker received no ${what} within ${timeoutMs} ms (${this.received.length} messages received in all)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Asks `target` to admit `req` (default: the attacker itself, at its own addresses) through /meshrun/join/1. */
  join(
    target: string,
    req: JoinRequest = { id: this.id, addrs: this.addrs, cluster: null, emptyStore: true },
    timeoutMs = 15_000,
  ): Promise<JoinResponse> {
    return requestJoin(this.host, target, req, { timeoutMs });
  }

  /** Asks `target` for a task attempt's log over /meshrun/logs/1 (dialling its address first). */
  async readLog(target: Target, req: LogRequest, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<LogAnswer> {
    await this.connect(target.addr, timeoutMs);
    return requestLog(this.host, peerIdFromString(target.id), req, { timeoutMs });
  }

  /**
   * Subscribes to the load topic and waits (bounded) until every one of `ids` is a known
   * subscriber, so a publish reaches them. Returns the ids it saw subscribed: fewer than asked
   * when nodes keep the attacker out of the topic (which is a refusal, not a test failure).
   */
  async joinLoadTopic(ids: readonly string[], timeoutMs = 15_000): Promise<string[]> {
    const pubsub = this.host.services.pubsub;
    pubsub.subscribe(LOAD_TOPIC);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const subs = new Set(pubsub.getSubscribers(LOAD_TOPIC).map((p) => p.toString()));
      if (ids.every((id) => subs.has(id)) || Date.now() >= deadline) return ids.filter((id) => subs.has(id));
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Publishes a load report, signed by the attacker's key whatever `node` it names. */
  async publishLoad(report: LoadReport): Promise<void> {
    await this.host.services.pubsub.publish(LOAD_TOPIC, encodeLoadReport(report));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const id of [...this.streams.keys()]) this.dropStream(id);
    await this.host.stop();
  }

  private async raftStream(to: Target): Promise<{ stream: Stream; lp: LengthPrefixedStream<Stream> }> {
    const held = this.streams.get(to.id);
    if (held && held.stream.status === 'open') return held;
    // By address: the attacker is a stranger, nothing in its peer store says where the node is.
    const stream = await this.host.dialProtocol(multiaddr(to.addr), RAFT_PROTOCOL, { signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) });
    const s = { stream, lp: lpStream(stream, { maxDataLength: MAX_FRAME_BYTES }) };
    this.streams.set(to.id, s);
    return s;
  }

  private dropStream(id: string): void {
    const s = this.streams.get(id);
    this.streams.delete(id);
    s?.stream.abort(new Error('attacker: stream dropped'));
  }

  private async serveRaft(stream: Stream, from: string): Promise<void> {
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    try {
      for await (const list of stream.source) {
        for (const chunk of list) {
          decoder.push(chunk, (frame) => {
            const d = decodeMessage(frame);
            if (d.ok) this.received.push({ from, msg: d.value, at: Date.now() });
          });
        }
      }
    } catch {
      // the node reset its stream (it stopped, or refused us): nothing more to record
    }
  }
}

// -------------------------------------------------------------------------------------------------
// What the attacker puts in its frames, built with the project's codecs.

/** A DAG as the API takes it (`{ name, tasks: { ... } }`), as a submit command's bytes inside a node `app` entry. */
export function submitEntry(jobId: string, dag: unknown): Uint8Array {
  return appEntry({ type: 'submit', id: jobId, key: null, spec: normalizeDag(dag) });
}

/** A scheduler command as the data of a node `app` entry. */
export function appEntry(cmd: Command): Uint8Array {
  return encodeNodeEntry({ kind: 'app', data: encodeCommand(cmd) });
}

/** A membership change as the data of a `conf` entry. */
export function confEntry(cc: ConfChange): { type: 'conf'; data: Uint8Array } {
  return { type: 'conf', data: encodeConfChange(cc) };
}

/** One AppendEntries carrying `data` as the entries right after (prevIndex, prevTerm), all in `term`, committing them. */
export function appendMessage(o: {
  from: NodeId;
  to: NodeId;
  term: number;
  prevIndex: number;
  prevTerm: number;
  data: readonly Uint8Array[];
  commit?: number;
}): Message {
  const entries: Entry[] = o.data.map((data, k) => ({
    index: o.prevIndex + 1 + k,
    term: o.term,
    type: 'normal',
    time: Date.now(),
    proposer: o.from,
    data,
  }));
  return {
    type: 'app',
    from: o.from,
    to: o.to,
    term: o.term,
    prevIndex: o.prevIndex,
    prevTerm: o.prevTerm,
    entries,
    commit: o.commit ?? o.prevIndex + entries.length,
  };
}

export function voteMessage(o: {
  from: NodeId;
  to: NodeId;
  term: number;
  pre?: boolean;
  transfer?: boolean;
  lastIndex?: number;
  lastTerm?: number;
}): Message {
  return {
    type: 'vote',
    from: o.from,
    to: o.to,
    term: o.term,
    pre: o.pre ?? false,
    transfer: o.transfer ?? false,
    lastIndex: o.lastIndex ?? 0,
    lastTerm: o.lastTerm ?? 0,
  };
}

/** A forwarded proposal (`prop`), as a follower sends its clients' proposals to the leader. */
export function propMessage(o: {
  from: NodeId;
  to: NodeId;
  term: number;
  entries: readonly { type: 'normal' | 'conf'; data: Uint8Array }[];
}): Message {
  return { type: 'prop', from: o.from, to: o.to, term: o.term, entries: o.entries };
}
