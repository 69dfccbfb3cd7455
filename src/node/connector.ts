// Keeps a connection open to every member this node can dial. Raft followers and learners only
// answer; a node restarted on a new port must reach the others first, or the leader (dialling the
// old, replicated address) would never find it to learn the new one. Once connected, both sides
// speak over that connection, and the node's own address entry catches up through the log.
import { multiaddr } from '@multiformats/multiaddr';
import { errorMessage } from '../errors.js';
import type { MeshHost } from '../net/host.js';
import type { NodeId } from '../raft/types.js';
import type { Logger } from './logger.js';

/** What the connector uses (js-libp2p's components style). */
export interface ConnectorComponents {
  readonly host: Pick<MeshHost, 'dial' | 'getConnections'>;
  /** Current members (voters and learners). */
  readonly members: () => readonly NodeId[];
  readonly addressesOf: (id: NodeId) => readonly string[] | undefined;
  readonly log: Logger;
}

export interface ConnectorInit {
  readonly self: NodeId;
  /** How often it looks for members it has no connection to. */
  readonly periodMs: number;
}

export class Connector {
  private timer: NodeJS.Timeout | null = null;
  private readonly dialling = new Set<NodeId>();

  constructor(
    private readonly deps: ConnectorComponents,
    private readonly init: ConnectorInit,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.round(), this.init.periodMs);
    this.timer.unref();
    this.round();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  round(): void {
    const { host } = this.deps;
    const { self } = this.init;
    for (const id of this.deps.members()) {
      if (id === self || this.dialling.has(id)) continue;
      const addrs = this.deps.addressesOf(id) ?? [];
      if (addrs.length === 0) continue;
      if (host.getConnections().some((c) => c.remotePeer.toString() === id)) continue;
      this.dialling.add(id);
      void this.dial(id, addrs).finally(() => this.dialling.delete(id));
    }
  }

  private async dial(id: NodeId, addrs: readonly string[]): Promise<void> {
    for (const a of addrs) {
      if (this.timer === null) return;
      try {
        await this.deps.host.dial(multiaddr(a), { signal: AbortSignal.timeout(3000) });
        return;
      } catch (err) {
        this.deps.log.debug({ peer: id, addr: a, err: errorMessage(err) }, 'dial failed');
      }
    }
  }
}
