import * as pb from '../src/proto/raft.js';
import { CodecError, decodeMessage, encodeMessage } from '../src/raft/codec.js';
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

/**
 * A forger's frame: as toWire, except that a vote request the real encoder refuses (a term past
 * MAX_TERM) is written with the schema's raw encoder, which checks nothing, as a hostile peer
 * would; the receiver's decoder must refuse it.
 */
export function toForgedWire(m: Message): Wire {
  try {
    return toWire(m);
  } catch (err) {
    if (!(err instanceof CodecError) || m.type !== 'vote') throw err;
    const { from, to, term, pre, lastIndex, lastTerm, transfer } = m;
    return pb.Message.encode({ from, to, term, vote: { pre, lastIndex, lastTerm, transfer } });
  }
}

/** Each delivery decodes its own copy, so duplicated deliveries share nothing either. */
export function fromWire(w: Wire): Decoded {
  return decodeMessage(w);
}
