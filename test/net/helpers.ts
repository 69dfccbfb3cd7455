// Shared fixtures for the network tests: hosts on 127.0.0.1 with ephemeral ports that are always
// stopped, and bounded polling instead of sleeps.
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { createHost, type HostOptions, type MeshHost } from '../../src/net/host.js';
import { hostAddrs } from '../../src/net/addresses.js';

/** Polls `cond` until it holds; fails naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Tracks hosts (and anything else with a stop) so afterEach can stop them all. */
export class Cleanup {
  private readonly stops: Array<() => Promise<void> | void> = [];

  add(stop: () => Promise<void> | void): void {
    this.stops.push(stop);
  }

  async host(opts: Partial<HostOptions> = {}): Promise<MeshHost> {
    const privateKey: PrivateKey = opts.privateKey ?? (await generateKeyPair('Ed25519'));
    const host = await createHost({ ...opts, privateKey });
    this.add(() => host.stop());
    return host;
  }

  async run(): Promise<void> {
    const stops = this.stops.splice(0).reverse();
    for (const stop of stops) {
      try {
        await stop();
      } catch {
        // a test may have stopped it already
      }
    }
  }
}

/** The host's first listen address, with /p2p/<id>. */
export function addrOf(host: MeshHost): string {
  const a = hostAddrs(host)[0];
  if (a === undefined) throw new Error('host has no listen address');
  return a;
}
