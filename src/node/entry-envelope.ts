// The application entries of meshrun's Raft log. Raft's own membership holds only peer ids, so the
// log also carries node-level metadata beside (later) the scheduler's commands. The first byte of
// an entry's data names its kind; these bytes live in the replicated log forever, so a kind's
// layout never changes: a new layout gets a new kind byte.
import { errorMessage } from '../errors.js';
import { Reader, Writer, type DecodeResult } from '../raft/codec.js';
import type { NodeId } from '../raft/types.js';

/** Where a member can be dialled: proposed by the leader when it admits a joiner, and by a node whose listen addresses changed. */
export interface AddressEntry {
  readonly kind: 'address';
  readonly id: NodeId;
  readonly addrs: readonly string[];
}

/**
 * The test hook: a value applied into a small replicated list, so tests can check that a
 * proposal reached every node. `nonce` lets the proposer recognise its own entry when applied.
 */
export interface ProbeEntry {
  readonly kind: 'probe';
  readonly nonce: string;
  readonly value: string;
}

/** Opaque bytes for the scheduler's state machine (not yet written). */
export interface AppEntry {
  readonly kind: 'app';
  readonly data: Uint8Array;
}

/**
 * A member asks to leave the membership (graceful stop). Only a leader appends membership changes,
 * so a follower says it with this entry, which speaks only for its proposer; the leader that
 * applies it removes the node.
 */
export interface LeaveEntry {
  readonly kind: 'leave';
  readonly id: NodeId;
}

export type NodeEntry = AddressEntry | ProbeEntry | AppEntry | LeaveEntry;

const KIND = { address: 1, probe: 2, app: 3, leave: 4 } as const satisfies Record<NodeEntry['kind'], number>;

/** Bounds that keep a hostile or buggy proposal from bloating every replica. */
export const MAX_ADDRS = 32;
export const MAX_ADDR_BYTES = 512;
export const MAX_PROBE_BYTES = 4096;
const MAX_NONCE_BYTES = 128;

export function encodeNodeEntry(e: NodeEntry): Uint8Array {
  switch (e.kind) {
    case 'address': {
      if (e.addrs.length > MAX_ADDRS) throw new RangeError(`address entry: ${e.addrs.length} addresses (at most ${MAX_ADDRS})`);
      const w = new Writer(64 + e.addrs.reduce((n, a) => n + a.length * 3 + 2, 0));
      w.u8(KIND.address);
      w.string(e.id);
      w.varint(e.addrs.length, 'address count');
      for (const a of e.addrs) {
        if (w.string(a) > MAX_ADDR_BYTES) throw new RangeError(`address entry: address longer than ${MAX_ADDR_BYTES} bytes`);
      }
      return w.finish().slice();
    }
    case 'probe': {
      const w = new Writer(16 + e.nonce.length + e.value.length * 3);
      w.u8(KIND.probe);
      if (w.string(e.nonce) > MAX_NONCE_BYTES) throw new RangeError(`probe entry: nonce longer than ${MAX_NONCE_BYTES} bytes`);
      if (w.string(e.value) > MAX_PROBE_BYTES) throw new RangeError(`probe entry: value longer than ${MAX_PROBE_BYTES} bytes`);
      return w.finish().slice();
    }
    case 'leave': {
      const w = new Writer(8 + e.id.length * 3);
      w.u8(KIND.leave);
      w.string(e.id);
      return w.finish().slice();
    }
    case 'app': {
      const out = new Uint8Array(e.data.length + 1);
      out[0] = KIND.app;
      out.set(e.data, 1);
      return out;
    }
  }
}

/**
 * Decodes an entry's data. Never throws: the log may hold entries from a newer version (unknown
 * kinds) and every replica must treat them the same way, which the caller does by skipping them.
 */
export function decodeNodeEntry(bytes: Uint8Array): DecodeResult<NodeEntry> {
  const r = new Reader(bytes, 'node entry');
  try {
    const kind = r.u8('kind');
    let value: NodeEntry;
    switch (kind) {
      case KIND.address: {
        const id = r.id('node id');
        const n = r.count('address count', 1);
        if (n > MAX_ADDRS) r.fail(`${n} addresses (at most ${MAX_ADDRS})`);
        const addrs: string[] = [];
        for (let k = 0; k < n; k++) addrs.push(r.string('address', MAX_ADDR_BYTES));
        value = { kind: 'address', id, addrs };
        break;
      }
      case KIND.probe: {
        const nonce = r.string('nonce', MAX_NONCE_BYTES);
        const v = r.string('value', MAX_PROBE_BYTES);
        value = { kind: 'probe', nonce, value: v };
        break;
      }
      case KIND.leave:
        value = { kind: 'leave', id: r.id('node id') };
        break;
      case KIND.app:
        // The rest of the entry, copied: the caller may reuse its buffer.
        return { ok: true, value: { kind: 'app', data: bytes.slice(1) } };
      default:
        return r.fail(`unknown kind ${kind}`);
    }
    r.end();
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}
