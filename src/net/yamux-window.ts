// yamux as every meshrun host uses it, with one change: a stream's receive window is topped up
// only once half of it has been used, as Go's yamux (and HashiCorp's spec notes) do, instead of
// after every chunk read. js-yamux 7 sends a 12-byte window update frame back for each chunk its
// reader takes, so every small Raft frame cost the receiver a second socket write (its own noise
// message and a wake-up of the sender's muxer) for no gain: the sender's window is 256 KiB and a
// Raft frame a few hundred bytes. With the threshold the sender still never waits while the
// receiver keeps reading: it stalls only with a whole window unread, and reading the first half of
// that window sends the update. Flow control is unchanged otherwise (the receiver still refuses a
// sender that overruns the window, and the window still grows while the reader keeps up).
import { yamux } from '@chainsafe/libp2p-yamux';
import type { YamuxMuxerComponents, YamuxMuxerInit } from '@chainsafe/libp2p-yamux';
import type { Stream, StreamMuxer, StreamMuxerFactory, StreamMuxerInit } from '@libp2p/interface';

/** js-yamux's StreamState values that matter here (its enum is not exported). */
const SYN_SENT = 1;
const ESTABLISHED = 3;

/** The fields of a js-yamux 7 stream the threshold reads; private there, so checked at run time. */
interface WindowFields {
  state: number;
  recvWindow: number;
  recvWindowCapacity: number;
  sendWindowUpdate: () => void;
}

function windowFields(stream: Stream): WindowFields | null {
  const s = stream as unknown as Partial<Record<keyof WindowFields, unknown>>;
  const ok =
    typeof s.state === 'number' &&
    typeof s.recvWindow === 'number' &&
    typeof s.recvWindowCapacity === 'number' &&
    typeof s.sendWindowUpdate === 'function';
  return ok ? (s as WindowFields) : null;
}

/**
 * Makes `stream` send a window update only when at least half its receive window was used, or when
 * the update carries a flag (the SYN of a new stream, the ACK of an accepted one: js-yamux sends
 * those through the same method). A stream of another shape (a yamux release that renamed its
 * fields) is left as it is: correct, only chattier.
 */
export function thresholdWindowUpdates(stream: Stream): void {
  const f = windowFields(stream);
  if (f === null) return;
  const original = f.sendWindowUpdate.bind(stream);
  f.sendWindowUpdate = () => {
    const flagless = f.state === ESTABLISHED || f.state === SYN_SENT;
    if (flagless && f.recvWindow - f.recvWindowCapacity < f.recvWindow / 2) return;
    original();
  };
}

function patchMuxer(muxer: StreamMuxer): StreamMuxer {
  const newStream = muxer.newStream.bind(muxer);
  // yamux opens streams synchronously; keep it so (libp2p awaits either).
  muxer.newStream = (name) => {
    const opened = newStream(name);
    if (opened instanceof Promise) {
      return opened.then((stream) => {
        thresholdWindowUpdates(stream);
        return stream;
      });
    }
    thresholdWindowUpdates(opened);
    return opened;
  };
  return muxer;
}

/**
 * `yamux(init)` with threshold window updates on every stream, inbound and outbound. The factory
 * yamux returns is kept (its protocol, its capabilities); only createStreamMuxer is wrapped.
 */
export function thriftyYamux(init: YamuxMuxerInit = {}): (components: YamuxMuxerComponents) => StreamMuxerFactory {
  const make = yamux(init);
  return (components) => {
    const factory = make(components);
    const create = factory.createStreamMuxer.bind(factory);
    factory.createStreamMuxer = (muxerInit: StreamMuxerInit = {}) => {
      return patchMuxer(
        create({
          ...muxerInit,
          onIncomingStream: (stream) => {
            thresholdWindowUpdates(stream);
            muxerInit.onIncomingStream?.(stream);
          },
        }),
      );
    };
    return factory;
  };
}
