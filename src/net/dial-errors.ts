// What a failed dial means, in words an operator can act on. With a swarm key (@libp2p/pnet) a
// peer whose key differs reads only noise from us and closes the connection during the handshake:
// libp2p then reports "unexpected end of input" (it-byte-stream's UnexpectedEOFError), which says
// nothing of the likely cause.

/** The peer closed the connection while the encrypted handshake was under way: it refused us. */
export function refusedDuringHandshake(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'UnexpectedEOFError' || /unexpected end of input/i.test(err.message);
}

export const HANDSHAKE_REFUSED =
  'the peer refused the connection (it closed it during the handshake): the swarm keys may differ (every node needs a copy of the same --swarm-key file, or none has one)';
