// The API URL a node tells the others about (load gossip, GET /v1/nodes), so a client that talks
// to one node can move on to another when it dies (docs/cli.md §2). A wildcard bind (0.0.0.0,
// ::) is no address to give out: the machine's first external address stands in for it.
import os from 'node:os';

export function advertisedApiUrl(
  boundUrl: string,
  bindHost: string,
  interfaces: ReturnType<typeof os.networkInterfaces> = os.networkInterfaces(),
): string {
  if (bindHost !== '0.0.0.0' && bindHost !== '::' && bindHost !== '[::]') return boundUrl;
  const port = new URL(boundUrl).port;
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const v4 = all.find((i) => i.family === 'IPv4' && !i.internal);
  const v6 = all.find((i) => i.family === 'IPv6' && !i.internal && !i.address.startsWith('fe80'));
  if (v4) return `http://${v4.address}:${port}`;
  if (v6 && bindHost !== '0.0.0.0') return `http://[${v6.address}]:${port}`;
  return `http://127.0.0.1:${port}`;
}
