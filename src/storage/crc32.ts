import * as zlib from 'node:zlib';
import { at } from '../invariant.js';

// CRC-32 (IEEE 802.3, the zlib/gzip polynomial) guarding each stored record. zlib.crc32 is native
// but only exists from Node 20.15 / 22.2, and package.json promises Node >= 20, so older runtimes
// fall back to a table-driven version that computes the same function.

type Crc32 = (data: Uint8Array, initial?: number) => number;

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** The portable implementation; exported so tests can check it against the native one. */
export function crc32Table(data: Uint8Array, initial = 0): number {
  let c = ~initial;
  for (const byte of data) c = at(TABLE, (c ^ byte) & 0xff, 'a byte indexes the 256-entry table') ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: Crc32 }).crc32;

/** CRC-32 of `data`, continuing from `initial` (the CRC of what came before it). */
export const crc32: Crc32 = typeof native === 'function' ? (d, i = 0) => native(d, i) >>> 0 : crc32Table;
