import { at } from '../src/invariant.js';
import type { Entry, Snapshot } from '../src/raft/types.js';
import { hashString } from './hash.js';
import type { StateMachine } from './workload.js';

// The KV workload's replicated state machine: `set key value` commands carrying a client id and
// a per-client sequence number. Each client has one command outstanding at a time, so the last
// sequence applied per client is enough to apply a retried command exactly once.

export type KvCommand =
  | { readonly kind: 'set'; readonly client: string; readonly seq: number; readonly key: string; readonly value: string }
  | { readonly kind: 'probe'; readonly tag: string };

export type KvResult =
  | {
      readonly kind: 'set';
      readonly client: string;
      readonly seq: number;
      readonly key: string;
      readonly value: string;
      readonly index: number;
      readonly dup: boolean;
    }
  | { readonly kind: 'none' };

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCommand(c: KvCommand): Uint8Array {
  return enc.encode(c.kind === 'set' ? `s ${c.client} ${c.seq} ${c.key} ${c.value}` : `p ${c.tag}`);
}

export function decodeCommand(b: Uint8Array): KvCommand | null {
  const parts = dec.decode(b).split(' ');
  if (parts[0] === 'p' && parts.length === 2) return { kind: 'probe', tag: at(parts, 1, 'two parts') };
  if (parts[0] === 's' && parts.length === 5) {
    const seq = Number(parts[2]);
    if (!Number.isSafeInteger(seq)) return null;
    return { kind: 'set', client: at(parts, 1, 'five parts'), seq, key: at(parts, 3, 'five parts'), value: at(parts, 4, 'five parts') };
  }
  return null;
}

interface Versioned {
  readonly value: string;
  /** Log index of the write that produced it. */
  readonly index: number;
}

interface ClientRecord {
  readonly seq: number;
  /** Log index where that sequence number took effect. */
  readonly index: number;
}

/**
 * The state hash is an order-independent sum of per-record hashes, updated as records change,
 * so the checkers can compare replicas after every apply at O(1) cost.
 */
export class KvStateMachine implements StateMachine<KvResult> {
  private keys = new Map<string, Versioned>();
  private clients = new Map<string, ClientRecord>();
  private hash = 0;

  get(key: string): Versioned | undefined {
    return this.keys.get(key);
  }

  client(id: string): ClientRecord | undefined {
    return this.clients.get(id);
  }

  apply(e: Entry): KvResult {
    if (e.type !== 'normal' || e.data.length === 0) return { kind: 'none' };
    const c = decodeCommand(e.data);
    if (c === null || c.kind === 'probe') return { kind: 'none' };
    const prev = this.clients.get(c.client);
    if (prev && c.seq <= prev.seq) {
      // A retry of a command that already took effect: report where it did.
      const index = c.seq === prev.seq ? prev.index : 0;
      return { kind: 'set', client: c.client, seq: c.seq, key: c.key, value: c.value, index, dup: true };
    }
    this.setClient(c.client, { seq: c.seq, index: e.index });
    this.setKey(c.key, { value: c.value, index: e.index });
    return { kind: 'set', client: c.client, seq: c.seq, key: c.key, value: c.value, index: e.index, dup: false };
  }

  snapshot(): Uint8Array {
    const keys = [...this.keys].sort(byKey).map(([k, v]) => [k, v.value, v.index]);
    const clients = [...this.clients].sort(byKey).map(([k, v]) => [k, v.seq, v.index]);
    return enc.encode(JSON.stringify({ keys, clients }));
  }

  restore(snapshot: Snapshot): void {
    const parsed: unknown = JSON.parse(dec.decode(snapshot.data));
    if (!isSnapshot(parsed)) throw new Error('kv: malformed snapshot');
    this.keys = new Map();
    this.clients = new Map();
    this.hash = 0;
    for (const [k, value, index] of parsed.keys) this.setKey(k, { value, index });
    for (const [k, seq, index] of parsed.clients) this.setClient(k, { seq, index });
  }

  stateHash(): number {
    return this.hash;
  }

  private setKey(k: string, v: Versioned): void {
    const old = this.keys.get(k);
    if (old) this.hash = (this.hash - recordHash('k', k, old.value, old.index)) >>> 0;
    this.keys.set(k, v);
    this.hash = (this.hash + recordHash('k', k, v.value, v.index)) >>> 0;
  }

  private setClient(k: string, r: ClientRecord): void {
    const old = this.clients.get(k);
    if (old) this.hash = (this.hash - recordHash('c', k, String(old.seq), old.index)) >>> 0;
    this.clients.set(k, r);
    this.hash = (this.hash + recordHash('c', k, String(r.seq), r.index)) >>> 0;
  }
}

function recordHash(kind: string, k: string, v: string, index: number): number {
  return hashString(`${kind}\0${k}\0${v}\0${index}`);
}

function byKey<T>(a: [string, T], b: [string, T]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

interface KvSnapshot {
  keys: [string, string, number][];
  clients: [string, number, number][];
}

function isSnapshot(v: unknown): v is KvSnapshot {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const triple = (t: unknown, second: 'string' | 'number'): boolean =>
    Array.isArray(t) && t.length === 3 && typeof t[0] === 'string' && typeof t[1] === second && typeof t[2] === 'number';
  return (
    Array.isArray(o['keys']) &&
    o['keys'].every((t) => triple(t, 'string')) &&
    Array.isArray(o['clients']) &&
    o['clients'].every((t) => triple(t, 'number'))
  );
}
