// What a failed dial means, in words an operator can act on. With a swarm key (@libp2p/pnet) a
// peer whose key differs reads only noise from us. It may close the connection during the
// handshake: libp2p then reports "unexpected end of input" (it-byte-stream's UnexpectedEOFError),
// which says nothing of the likely cause. Or it may keep reading, waiting for a handshake message
// that never makes sense, until the dial times out: "no answer" alone sends the operator looking
// at the network, while the port was open all along (docs/security.md §2).
import { connect } from 'node:net';
import type { Multiaddr } from '@multiformats/multiaddr';

/** The peer closed the connection while the encrypted handshake was under way: it refused us. */
export function refusedDuringHandshake(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'UnexpectedEOFError' || /unexpected end of input/i.test(err.message);
}

const SAME_KEY = 'every node needs a copy of the same --swarm-key file, or none has one';

export const HANDSHAKE_REFUSED = `the peer refused the connection (it closed it during the handshake): the swarm keys may differ (${SAME_KEY})`;

/** A dial that gave up waiting (libp2p's or pnet's own timeouts, not ours: the caller knows its own). */
export function dialTimedOut(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'TimeoutError' || /timed out|aborted due to timeout/i.test(err.message);
}

/** How long the check that the peer's port is open may take, once the dial has already timed out. */
const PORT_CHECK_MS = 2_000;

/** Whether a TCP connection to `host:port` opens within `timeoutMs` (closed at once when it does). */
export function tcpPortOpen(host: string, port: number, timeoutMs = PORT_CHECK_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (open: boolean): void => {
      sock.destroy();
      resolve(open);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * After a dial to `ma` timed out: when its TCP port accepts connections, the handshake is what
 * never completed, and a swarm-key mismatch is the likely cause; says so. Null when the address
 * is not TCP or the port does not answer either (then the network is the likelier suspect).
 */
export async function silentHandshakeHint(ma: Multiaddr, timeoutMs = PORT_CHECK_MS): Promise<string | null> {
  let host: string;
  let port: number;
  try {
    const o = ma.toOptions();
    if (o.transport !== 'tcp') return null;
    ({ host, port } = o);
  } catch {
    return null;
  }
  if (!(await tcpPortOpen(host, port, timeoutMs))) return null;
  const shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return `${shown} accepts connections but the handshake never completed: the swarm keys likely differ (${SAME_KEY})`;
}
