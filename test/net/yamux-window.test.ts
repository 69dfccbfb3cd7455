import { describe, expect, it } from 'vitest';
import { yamux } from '@chainsafe/libp2p-yamux';
import { defaultLogger } from '@libp2p/logger';
import type { Stream, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface';
import type { Uint8ArrayList } from 'uint8arraylist';
import { thriftyYamux } from '../../src/net/yamux-window.js';

/** yamux frame type byte (offset 1 of the 12-byte header) of a window update. */
const WINDOW_UPDATE = 1;
/** Flags (offsets 2-3): SYN 1, ACK 2, FIN 4, RST 8. */
const flagsOf = (header: Uint8Array): number => ((header[2] ?? 0) << 8) | (header[3] ?? 0);

interface Wire {
  /** Flagless window updates the reading side sent back: the ones the threshold is about. */
  plainWindowUpdates: number;
}

/** Copies one muxer's output into the other's input, counting the window updates that pass. */
async function* tap(source: AsyncIterable<Uint8Array | Uint8ArrayList>, wire: Wire): AsyncGenerator<Uint8Array | Uint8ArrayList> {
  for await (const frame of source) {
    // Each item a yamux muxer emits is one whole frame, header first.
    const header = frame.subarray(0, 12);
    if (header[1] === WINDOW_UPDATE && flagsOf(header) === 0) wire.plainWindowUpdates++;
    yield frame;
  }
}

/**
 * Sends `frames` chunks of `size` bytes over one stream between two muxers made by `make`, reads
 * them all on the other side, and returns the bytes read and the reader's flagless window updates.
 */
async function transfer(make: StreamMuxerFactory, frames: number, size: number): Promise<{ read: number; updates: number }> {
  let read = 0;
  let reading: Promise<void> = Promise.resolve();
  const reader: StreamMuxer = make.createStreamMuxer({
    direction: 'inbound',
    onIncomingStream: (stream: Stream) => {
      reading = (async () => {
        for await (const chunk of stream.source) read += chunk.byteLength;
      })();
    },
  });
  const writer = make.createStreamMuxer({ direction: 'outbound' });
  const back: Wire = { plainWindowUpdates: 0 };
  const forth: Wire = { plainWindowUpdates: 0 };
  void reader.sink(tap(writer.source, forth));
  void writer.sink(tap(reader.source, back));
  const stream = await writer.newStream();
  await stream.sink(
    (async function* () {
      for (let i = 0; i < frames; i++) yield new Uint8Array(size).fill(i % 256);
    })(),
  );
  await reading;
  await writer.close();
  await reader.close();
  return { read, updates: back.plainWindowUpdates };
}

const factory = (f: ReturnType<typeof yamux>): StreamMuxerFactory => f({ logger: defaultLogger() });

describe('thriftyYamux', () => {
  it('sends no window update for small frames that stay within half the window', async () => {
    const frames = 200;
    const thrifty = await transfer(factory(thriftyYamux()), frames, 300);
    expect(thrifty.read).toBe(frames * 300);
    expect(thrifty.updates).toBe(0);
    // The library's own behaviour, which this wrapper exists to change: about one per frame.
    const plain = await transfer(factory(yamux()), frames, 300);
    expect(plain.read).toBe(frames * 300);
    expect(plain.updates).toBeGreaterThan(frames / 2);
  });

  it('still tops the window up, so more than a window of data gets through', async () => {
    // 4 MiB through a 256 KiB initial window: the writer would wait forever without updates.
    const thrifty = await transfer(factory(thriftyYamux()), 1024, 4096);
    expect(thrifty.read).toBe(1024 * 4096);
    expect(thrifty.updates).toBeGreaterThan(0);
    expect(thrifty.updates).toBeLessThan(64);
  });
});
