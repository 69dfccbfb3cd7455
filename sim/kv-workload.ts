import type { SeededRng } from '../src/raft/rng.js';
import type { Entry, NodeId } from '../src/raft/types.js';
import { FORGER } from './forgery.js';
import { encodeCommand, KvStateMachine, type KvResult } from './kv.js';
import type { ClusterApi, Workload } from './workload.js';

type Op =
  | { kind: 'write'; seq: number; key: string; value: string; node: NodeId | null; attempt: number; retries: number }
  | {
      kind: 'read';
      key: string;
      ctx: string;
      node: NodeId;
      started: number;
      /** Highest index of any write acknowledged before the read began: the read must see it. */
      mustSee: number;
      /** Index of the newest acknowledged write to `key` before the read began. */
      keyFloor: number;
    };

interface Client {
  readonly id: string;
  seq: number;
  op: Op | null;
  /** (seq, effect index) of every acknowledged write, in order. */
  readonly acked: { seq: number; index: number }[];
}

/**
 * Clients writing to a replicated KV store and reading it linearizably. Each client has one
 * operation outstanding. Writes go to a random node (followers forward), wait until that node
 * applies them, and are retried with the same sequence number after a refusal, a crash or a
 * timeout (a forwarded proposal may be dropped). Reads use ReadIndex and must observe every
 * write acknowledged before they started.
 */
export class KvWorkload implements Workload<KvResult> {
  readonly name = 'kv';
  private api!: ClusterApi<KvResult>;
  private rng!: SeededRng;
  private clients: Client[] = [];
  private keyCount = 16;
  private readRatio = 0.2;
  private timeoutMs = 1000;
  private readSeq = 0;
  /** Highest effect index of any acknowledged write, and per key. */
  private ackedIndex = 0;
  private readonly ackedKeyIndex = new Map<string, number>();
  private readonly stats = { writes: 0, retries: 0, reads: 0, readsFailed: 0 };

  createStateMachine(): KvStateMachine {
    return new KvStateMachine();
  }

  start(api: ClusterApi<KvResult>, rng: SeededRng): void {
    this.api = api;
    this.rng = rng;
    this.keyCount = rng.range(4, 32);
    this.readRatio = rng.float() * 0.4;
    this.timeoutMs = rng.range(400, 1500);
    const n = rng.range(2, 16);
    for (let i = 1; i <= n; i++) this.clients.push({ id: `c${i}`, seq: 0, op: null, acked: [] });
    for (const c of this.clients) this.api.after(rng.range(0, 100), () => this.next(c));
  }

  probe(tag: string): Uint8Array {
    return encodeCommand({ kind: 'probe', tag });
  }

  /** The forger's entries: a write from a client no one runs, of a value no client writes. */
  forgedEntry(n: number): Uint8Array {
    return encodeCommand({ kind: 'set', client: FORGER, seq: n, key: 'k0', value: `forged-${n}` });
  }

  /** The forger's snapshots: a valid state holding one forged write. */
  forgedSnapshot(n: number): Uint8Array {
    const sm = new KvStateMachine();
    sm.apply({ index: 1, term: 1, type: 'normal', time: 0, proposer: FORGER, data: this.forgedEntry(n) });
    return sm.snapshot();
  }

  onHeal(): void {}

  private next(c: Client): void {
    if (this.rng.chance(this.readRatio)) this.startRead(c);
    else {
      c.seq++;
      const key = `k${this.rng.int(this.keyCount)}`;
      c.op = { kind: 'write', seq: c.seq, key, value: `${c.id}.${c.seq}`, node: null, attempt: 0, retries: 0 };
      this.sendWrite(c);
    }
  }

  private later(c: Client, ms: number): void {
    c.op = null;
    this.api.after(ms, () => this.next(c));
  }

  private sendWrite(c: Client): void {
    const op = c.op;
    if (op?.kind !== 'write') return;
    const node = this.rng.pick(this.api.nodes);
    const attempt = ++op.attempt;
    const data = encodeCommand({ kind: 'set', client: c.id, seq: op.seq, key: op.key, value: op.value });
    const r = this.api.propose(node, data);
    if (!r?.ok) {
      op.node = null;
      this.retryWrite(c, op, attempt, this.rng.range(5, 100));
      return;
    }
    op.node = node;
    this.api.trace(`${c.id}: set ${op.key}=${op.value} via ${node}${'index' in r ? ` at ${r.index}/t${r.term}` : ' (forwarded)'}`);
    this.retryWrite(c, op, attempt, this.timeoutMs);
  }

  /** Retry the same command unless it completed or was retried meanwhile. */
  private retryWrite(c: Client, op: Op & { kind: 'write' }, attempt: number, ms: number): void {
    this.api.after(ms, () => {
      if (c.op !== op || op.attempt !== attempt) return;
      op.retries++;
      this.stats.retries++;
      this.sendWrite(c);
    });
  }

  onApplied(node: NodeId, _entry: Entry, r: KvResult): void {
    if (r.kind !== 'set') return;
    const c = this.clients.find((x) => x.id === r.client);
    const op = c?.op;
    if (!c || op?.kind !== 'write' || op.seq !== r.seq || op.node !== node) return;
    this.stats.writes++;
    c.acked.push({ seq: r.seq, index: r.index });
    this.ackedIndex = Math.max(this.ackedIndex, r.index);
    this.ackedKeyIndex.set(op.key, Math.max(this.ackedKeyIndex.get(op.key) ?? 0, r.index));
    this.api.trace(`${c.id}: set ${op.key}=${op.value} done on ${node}, effective at ${r.index}${r.dup ? ' (retry deduplicated)' : ''}`);
    this.later(c, this.rng.range(0, 30));
  }

  onCrash(node: NodeId): void {
    for (const c of this.clients) {
      const op = c.op;
      if (!op || op.node !== node) continue;
      if (op.kind === 'write') this.retryWrite(c, op, op.attempt, this.rng.range(5, 100));
      else this.abandonRead(c, 'node crashed');
    }
  }

  /** A linearizable read through the node's driver (RaftDriver.readIndex), which times it out after timeoutMs. */
  private startRead(c: Client): void {
    const node = this.rng.pick(this.api.nodes);
    const key = `k${this.rng.int(this.keyCount)}`;
    const ctx = `${c.id}-r${++this.readSeq}`;
    const op: Op = {
      kind: 'read',
      key,
      ctx,
      node,
      started: this.api.now(),
      mustSee: this.ackedIndex,
      keyFloor: this.ackedKeyIndex.get(key) ?? 0,
    };
    c.op = op;
    const asked = this.api.readIndex(node, this.timeoutMs, {
      resolve: (index) => {
        if (c.op === op) this.serveRead(c, op, index);
      },
      reject: (err) => {
        if (c.op === op) this.abandonRead(c, err.message);
      },
    });
    if (!asked) this.later(c, this.rng.range(5, 100));
  }

  private abandonRead(c: Client, why: string): void {
    const op = c.op;
    if (op?.kind !== 'read') return;
    this.stats.readsFailed++;
    this.api.trace(`${c.id}: read ${op.ctx} at ${op.node} abandoned: ${why}`);
    this.later(c, this.rng.range(5, 100));
  }

  /** The driver answered with `index`, which its node has applied: the state read now must hold every acknowledged write. */
  private serveRead(c: Client, op: Op & { kind: 'read' }, index: number): void {
    if (index < op.mustSee) {
      this.api.fail(
        'linearizable read',
        `read ${op.ctx} at ${op.node} (started at ${op.started}ms) got read index ${index}, but a write acknowledged before it started is at index ${op.mustSee}`,
      );
      return;
    }
    const applied = this.api.appliedIndex(op.node);
    if (applied < index) {
      this.api.fail(
        'linearizable read',
        `read ${op.ctx} at ${op.node} was answered with read index ${index} before the node applied it (applied ${applied})`,
      );
      return;
    }
    const sm = this.api.stateMachine(op.node);
    if (!(sm instanceof KvStateMachine)) return;
    const seen = sm.get(op.key)?.index ?? 0;
    if (seen < op.keyFloor) {
      this.api.fail(
        'linearizable read',
        `read ${op.ctx} of ${op.key} at ${op.node} saw the write at index ${seen}, but the write at ${op.keyFloor} was acknowledged before the read began`,
      );
      return;
    }
    this.stats.reads++;
    this.api.trace(`${c.id}: read ${op.key} at ${op.node} = ${sm.get(op.key)?.value ?? '(unset)'} (read index ${index})`);
    this.later(c, this.rng.range(0, 30));
  }

  finish(members: readonly NodeId[], index: number): void {
    for (const c of this.clients) {
      let need = 0;
      for (const a of c.acked) if (a.index < index) need = a.seq;
      if (need === 0) continue;
      for (const n of members) {
        const sm = this.api.stateMachine(n);
        if (!(sm instanceof KvStateMachine)) continue;
        const have = sm.client(c.id)?.seq ?? 0;
        if (have < need) {
          this.api.fail(
            'acknowledged write lost',
            `${n} applied ${c.id}'s commands only up to ${have}, but ${need} was acknowledged before index ${index}`,
          );
          return;
        }
      }
    }
  }

  summary(): string {
    const s = this.stats;
    return `kv: ${this.clients.length} clients, ${s.writes} writes acked (${s.retries} retries), ${s.reads} reads (${s.readsFailed} abandoned)`;
  }
}
