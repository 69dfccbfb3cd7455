// Ports a node is about to take, checked before anything is written: a taken API port or --listen
// port is said in one line naming the address (the CLI exits 2), rather than as libp2p's
// "Some configured addresses failed to be listened on ... transportManager.faultTolerance" with a
// stack trace, and before a first start could leave cluster state behind.
import { createServer } from 'node:net';
import { multiaddr } from '@multiformats/multiaddr';
import { errorMessage } from '../errors.js';

/** Binds host:port and lets go at once; rejects naming the address when it is taken. Port 0 always passes. */
export function assertPortFree(hostName: string, port: number, what = 'the address'): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const server = createServer();
    const shown = hostName.includes(':') ? `[${hostName}]:${port}` : `${hostName}:${port}`;
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `${what} ${shown} is already in use (another meshrun node, or another program, listens there)`
            : `${what} ${shown}: ${err.message}`,
        ),
      ),
    );
    server.listen({ host: hostName, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** The TCP host and port of a listen multiaddr (`/ip4/H/tcp/P...`, `/ip6/H/tcp/P...`), or null for anything else. */
export function tcpListenAddress(addr: string): { host: string; port: number } | null {
  let parts;
  try {
    parts = multiaddr(addr).getComponents();
  } catch {
    return null;
  }
  const [ip, tcp] = parts;
  if (ip === undefined || tcp === undefined || (ip.name !== 'ip4' && ip.name !== 'ip6') || tcp.name !== 'tcp') return null;
  const port = Number(tcp.value);
  if (ip.value === undefined || !Number.isInteger(port)) return null;
  return { host: ip.value, port };
}

/** Rejects naming the first --listen address whose TCP port is taken. */
export async function assertListenPortsFree(listen: readonly string[]): Promise<void> {
  for (const addr of listen) {
    const a = tcpListenAddress(addr);
    if (a === null) continue;
    await assertPortFree(a.host, a.port, `cannot listen on --listen ${addr}:`);
  }
}

/**
 * libp2p's own message for listen addresses it could not bind (a port taken between the check and
 * the bind), cut down to the addresses and their reasons, without the stack traces.
 */
export function listenFailure(err: unknown): string | null {
  const msg = errorMessage(err);
  if (!/failed to be listened on|EADDRINUSE/.test(msg)) return null;
  const lines = msg
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\/ip[46]\//.test(l))
    .map((l) => l.replace(/:\s*Error:\s*/, ': ').replace(/listen EADDRINUSE: address already in use (\S+)/, '$1 is already in use'));
  return lines.length > 0 ? `cannot listen on ${lines.join('; ')}` : null;
}
