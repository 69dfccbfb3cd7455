// One libp2p host per node: TCP, noise, yamux (src/net/yamux-window.ts), identify, gossipsub, and optionally bootstrap
// dialling and a private-network protector. Everything meshrun speaks runs over this host.
import './polyfill.js';
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';

import { identify, type Identify } from '@libp2p/identify';
import { bootstrap } from '@libp2p/bootstrap';
import { gossipsub, type GossipsubEvents } from '@chainsafe/libp2p-gossipsub';
import { preSharedKey } from '@libp2p/pnet';
import { multiaddr } from '@multiformats/multiaddr';
import { StrictSign, type ComponentLogger, type ConnectionGater, type Libp2p, type PrivateKey, type PubSub } from '@libp2p/interface';
import { errorMessage } from '../errors.js';
import { peerIdIn } from './addresses.js';
import { thriftyYamux } from './yamux-window.js';

// eslint-disable-next-line @typescript-eslint/no-deprecated -- gossipsub 14 implements this PubSub; its own type comes with a later major
export type MeshServices = { identify: Identify; pubsub: PubSub<GossipsubEvents> };
export type MeshHost = Libp2p<MeshServices>;

export interface HostOptions {
  readonly privateKey: PrivateKey;
  /** Multiaddrs to listen on; default `/ip4/127.0.0.1/tcp/0` (loopback, ephemeral port). */
  readonly listen?: readonly string[];
  /** Peers to dial at start; each must end in `/p2p/<peer id>`. */
  readonly bootstrap?: readonly string[];
  /** Swarm key bytes from readSwarmKey: only peers with the same key can connect. */
  readonly swarmKey?: Uint8Array;
  /** libp2p's component logger; libp2p's own `debug`-based logger (DEBUG=libp2p:*) when absent. */
  readonly logger?: ComponentLogger;
  /** Gossipsub heartbeat; shorter forms the mesh faster. Default 200 ms. */
  readonly heartbeatIntervalMs?: number;
  /** Refuses connections by peer id; only the test-only partition gate sets one (libp2p allows all otherwise). */
  readonly connectionGater?: ConnectionGater;
}

export const DEFAULT_LISTEN = '/ip4/127.0.0.1/tcp/0';

export class HostConfigError extends Error {
  override readonly name = 'HostConfigError';
}

/** Checks bootstrap addresses up front: libp2p's bootstrap module would skip bad ones silently. */
function checkBootstrap(addrs: readonly string[]): string[] {
  return addrs.map((a) => {
    let ma;
    try {
      ma = multiaddr(a);
    } catch (err) {
      throw new HostConfigError(`bootstrap address ${a} is not a multiaddr: ${errorMessage(err)}`);
    }
    if (peerIdIn(ma) === null) throw new HostConfigError(`bootstrap address ${a} must end in /p2p/<peer id>`);
    return ma.toString();
  });
}

/** Creates and starts a host. Stop it with `host.stop()`. */
export async function createHost(opts: HostOptions): Promise<MeshHost> {
  const listen = opts.listen && opts.listen.length > 0 ? [...opts.listen] : [DEFAULT_LISTEN];
  const bootstrapList = checkBootstrap(opts.bootstrap ?? []);
  return createLibp2p<MeshServices>({
    privateKey: opts.privateKey,
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    // yamux with window updates at half the window, not after every read (src/net/yamux-window.ts).
    streamMuxers: [thriftyYamux()],
    // A short timeout: bootstrap dials this long after start (libp2p's default is 1 s).
    peerDiscovery: bootstrapList.length > 0 ? [bootstrap({ list: bootstrapList, timeout: 100 })] : [],
    ...(opts.swarmKey ? { connectionProtector: preSharedKey({ psk: opts.swarmKey }) } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.connectionGater ? { connectionGater: opts.connectionGater } : {}),
    connectionManager: {
      // A cluster is tens of nodes in a full mesh: 300 (the default) leaves plenty of room.
      maxConnections: 300,
      // A Raft peer we cannot reach within this is better retried later than waited on. It bounds
      // the upgrade (pnet, noise, yamux) too (libp2p 2 ignores outboundUpgradeTimeout): a peer with
      // another swarm key makes noise wait for bytes that never come until it expires.
      dialTimeout: 5_000,
      // libp2p allows 5 inbound connections per second per source IP by default; several nodes
      // behind one address (one machine, a NAT, a test) reconnecting after a restart exceed it.
      inboundConnectionThreshold: 100,
      maxIncomingPendingConnections: 64,
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        // Load gossip is best-effort: a node alone (or before the mesh forms) must not fail.
        allowPublishToZeroTopicPeers: true,
        heartbeatInterval: opts.heartbeatIntervalMs ?? 200,
        emitSelf: false,
        // Every message signed by its author and checked on receipt (gossipsub's default, stated
        // because the load gossip relies on it): a report's `from` is who wrote it, not a relay.
        globalSignaturePolicy: StrictSign,
        // Raw JSON bodies are tiny; refuse RPCs far larger than any load report batch.
        maxInboundDataLength: 1024 * 1024,
      }),
    },
  });
}
