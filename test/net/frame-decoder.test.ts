import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameError, encodeLength } from '../../src/net/frame-decoder.js';

function encode(frames: readonly Uint8Array[]): Uint8Array {
  const parts = frames.flatMap((f) => [encodeLength(f.length), f]);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  return out;
}

describe('FrameDecoder', () => {
  it('returns the same frames however the byte stream is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const dec = new FrameDecoder(300);
        const got: Uint8Array[] = [];
        for (const chunk of split(encode(frames), cuts)) dec.push(chunk, (f) => got.push(Uint8Array.from(f)));
        expect(got).toEqual(frames);
        expect(dec.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an announced length over the limit before buffering the frame', () => {
    const dec = new FrameDecoder(1000);
    expect(() => dec.push(encodeLength(1001), () => undefined)).toThrow(FrameError);
    try {
      new FrameDecoder(1000).push(encodeLength(1_000_000), () => undefined);
    } catch (err) {
      expect(err).toBeInstanceOf(FrameError);
      expect((err as FrameError).oversize).toBe(true);
    }
  });

  it('refuses a length field that never ends and an over-long varint', () => {
    expect(() => new FrameDecoder(1 << 30).push(new Uint8Array(6).fill(0xff), () => undefined)).toThrow(/longer than/);
    const dec = new FrameDecoder(100);
    let err: unknown;
    try {
      dec.push(Uint8Array.from([0x85, 0x00]), () => undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameError);
    expect((err as FrameError).oversize).toBe(false);
  });

  it('delivers an empty frame and waits for a partial header', () => {
    const dec = new FrameDecoder(1 << 20);
    const got: number[] = [];
    dec.push(Uint8Array.from([0]), (f) => got.push(f.length));
    expect(got).toEqual([0]);
    dec.push(Uint8Array.from([0x80]), (f) => got.push(f.length));
    expect(got).toEqual([0]);
    dec.push(Uint8Array.from([0x01]), (f) => got.push(f.length));
    expect(dec.bufferedBytes).toBe(0);
    dec.push(new Uint8Array(128), (f) => got.push(f.length));
    expect(got).toEqual([0, 128]);
  });
});
