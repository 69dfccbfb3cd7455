import { decodeMessage, encodeMessage } from '../src/raft/codec.js';
import type { Message } from '../src/raft/types.js';

// THE ONE PLACE where messages cross the simulated wire: every message a node sends is encoded
// with the real codec and every delivery decoded, so the simulator exercises the bytes that the
// production transport sends, and no two nodes ever share an object.

export type Wire = Uint8Array;

export type Decoded = { readonly ok: true; readonly value: Message } | { readonly ok: false; readonly error: string };

/** Throws a CodecError when the core produced a message the decoder would refuse. */
export function toWire(m: Message): Wire {
  return encodeMessage(m);
}

/** Each delivery decodes its own copy, so duplicated deliveries share nothing either. */
export function fromWire(w: Wire): Decoded {
  return decodeMessage(w);
}
