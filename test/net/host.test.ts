import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, describe, expect, it } from 'vitest';
import { hostAddrs, peerIdOf, withPeerId } from '../../src/net/addresses.js';
import { createHost } from '../../src/net/host.js';
import { Cleanup, addrOf, waitFor } from './helpers.js';

/** Some other valid peer id. */
const OTHER_ID = '12D3KooWGGLcn2WBFy9tNJNR219K6uHKzDmxTNunnJEuTjX8XD6X';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('host', () => {
  it('listens on loopback by default and prints addresses with /p2p/<id>', async () => {
    const h = await cleanup.host();
    const addrs = hostAddrs(h);
    expect(addrs.length).toBeGreaterThan(0);
    for (const a of addrs) {
      expect(a).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
      expect(peerIdOf(a)).toBe(h.peerId.toString());
    }
    expect(withPeerId('/ip4/127.0.0.1/tcp/1', h.peerId.toString())).toBe(`/ip4/127.0.0.1/tcp/1/p2p/${h.peerId.toString()}`);
    expect(() => withPeerId(addrs[0] as string, OTHER_ID)).toThrow(/names peer/);
  });

  it('dials its bootstrap peers at start', async () => {
    const seed = await cleanup.host();
    const joiner = await cleanup.host({ bootstrap: [addrOf(seed)] });
    await waitFor(() => joiner.getConnections(seed.peerId).length > 0, 'the bootstrap connection');
  });

  it('refuses bootstrap addresses without a peer id, naming them', async () => {
    const privateKey = await generateKeyPair('Ed25519');
    await expect(createHost({ privateKey, bootstrap: ['/ip4/127.0.0.1/tcp/4001'] })).rejects.toThrow(
      '/ip4/127.0.0.1/tcp/4001 must end in /p2p/<peer id>',
    );
    await expect(createHost({ privateKey, bootstrap: ['garbage'] })).rejects.toThrow(/bootstrap address garbage is not a multiaddr/);
  });
});
