// Multiaddr helpers for printing and exchanging a host's addresses. Every address a node hands to
// others (the `listening` lines, join requests, the replicated address book) ends in /p2p/<id>,
// so whoever dials it knows whom to expect and noise can check it.
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Libp2p } from '@libp2p/interface';
import { errorMessage } from '../errors.js';

/** The multicodec code of the /p2p/ component. */
const P2P = 421;

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

/** Parses a multiaddr; the error names the text and the problem. */
export function parseMultiaddr(addr: string): Multiaddr {
  try {
    return multiaddr(addr);
  } catch (err) {
    throw new AddressError(`${addr} is not a multiaddr: ${errorMessage(err)}`);
  }
}

/** The peer id an address names (the last /p2p/ part, a relayed address's target), or null. */
export function peerIdIn(ma: Multiaddr): string | null {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- stringTuples() would skip its relay rule and its id normalisation
  return ma.getPeerId();
}

/** `addr` with `/p2p/<id>` at the end (kept if it is already there; an error if another id is). */
export function withPeerId(addr: string | Multiaddr, id: string): string {
  const ma = typeof addr === 'string' ? parseMultiaddr(addr) : addr;
  const has = peerIdIn(ma);
  if (has === id) return ma.toString();
  if (has !== null) throw new AddressError(`${ma.toString()} names peer ${has}, not ${id}`);
  return ma.encapsulate(`/p2p/${id}`).toString();
}

/** The peer id that a dialable address names; errors when it names none. */
export function peerIdOf(addr: string | Multiaddr): string {
  const ma = typeof addr === 'string' ? parseMultiaddr(addr) : addr;
  const id = peerIdIn(ma);
  if (id === null) throw new AddressError(`${ma.toString()} must end in /p2p/<peer id>`);
  return id;
}

/** The address without its /p2p/ part (what libp2p's peer store keeps). */
export function transportPart(addr: string | Multiaddr): Multiaddr {
  const ma = typeof addr === 'string' ? parseMultiaddr(addr) : addr;
  return peerIdIn(ma) === null ? ma : ma.decapsulateCode(P2P);
}

/** True for an address on the loopback interface (127.0.0.0/8, ::1, localhost). */
export function isLoopbackAddr(addr: string | Multiaddr): boolean {
  const ma = typeof addr === 'string' ? parseMultiaddr(addr) : addr;
  const [first] = ma.getComponents();
  if (first === undefined) return false;
  if (first.name === 'ip4') return first.value?.startsWith('127.') ?? false;
  if (first.name === 'ip6') return first.value === '::1';
  if (first.name === 'dns' || first.name === 'dns4' || first.name === 'dns6') return first.value === 'localhost';
  return false;
}

/**
 * The host's listen addresses, each ending in /p2p/<its id>, ready to print as
 * `listening <addr>` or to hand to a peer. A wildcard listen (/ip4/0.0.0.0) shows as one address
 * per interface. Loopback addresses come last: the first one is what another machine can dial.
 * Empty until the host listens.
 */
export function hostAddrs(host: Libp2p): string[] {
  const id = host.peerId.toString();
  const addrs = [...new Set(host.getMultiaddrs().map((ma) => withPeerId(ma, id)))];
  // A stable sort: the order libp2p gives is kept within each group.
  return addrs.sort((a, b) => Number(isLoopbackAddr(a)) - Number(isLoopbackAddr(b)));
}
