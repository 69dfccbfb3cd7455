import type { Message } from '../src/raft/types.js';

// THE ONE PLACE where messages cross the simulated wire. Every message a node sends goes through
// toWire and every delivery through fromWire, so that no two nodes ever share a mutable object.
// Switching to the real codec (src/raft/codec.ts: encodeMessage / decodeMessage) means changing
// only this file: Wire becomes Uint8Array, toWire = encodeMessage, fromWire = decodeMessage.

export type Wire = Message;

export type Decoded = { readonly ok: true; readonly value: Message } | { readonly ok: false; readonly error: string };

export function toWire(m: Message): Wire {
  return copy(m) as Message;
}

export function fromWire(w: Wire): Decoded {
  // Duplicated deliveries share one Wire value, so each delivery gets its own copy.
  return { ok: true, value: copy(w) as Message };
}

function copy(v: unknown): unknown {
  if (v instanceof Uint8Array) return v.slice();
  if (Array.isArray(v)) return v.map(copy);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = copy(x);
    return out;
  }
  return v;
}
