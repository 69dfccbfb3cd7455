// Which requests the API answers at all, before the token is looked at: a `Host` it serves, and no
// `Origin` but its own.
//
// DNS rebinding: a page on attacker.example re-points its own name at 127.0.0.1 and then calls
// http://attacker.example:7070/v1/jobs. The browser deems that same-origin and lets the page read
// the answers, and the request reaches the node with `Host: attacker.example:7070`. Refusing Host
// values that do not name this API ends that. A cross-site `Origin` (a page elsewhere posting to
// http://127.0.0.1:7070 directly) is refused too: the API has no business with other sites' pages,
// and a simple POST would otherwise reach it (the browser only hides the answer).
import os from 'node:os';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiError } from './types.js';

/** The `host[:port]` values (lower case, IPv6 in brackets) requests may name, and how to say so. */
export interface ServedHosts {
  readonly hosts: ReadonlySet<string>;
  /** For messages: what the API answers to, without listing a wildcard's interface addresses (a rebinding page could read them). */
  readonly description: string;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** A host name only this machine can reach: localhost, ::1 or 127.x.x.x (the node also asks it of --api: no token needed there). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host);
}
const WILDCARDS = new Set(['0.0.0.0', '::']);

/**
 * What an API bound to `boundHost`:`port` serves: the bound name or address; with loopback also
 * localhost, 127.0.0.1 and [::1]; with a wildcard every address of this machine (as of the start)
 * and its host name. A Host without a port means port 80.
 */
export function servedHosts(boundHost: string, port: number, machine: () => readonly string[] = machineNames): ServedHosts {
  const bound = unbracket(boundHost.toLowerCase());
  const names = new Set<string>();
  let description: string;
  if (WILDCARDS.has(bound)) {
    for (const n of [...machine(), ...LOOPBACK_NAMES]) names.add(n.toLowerCase());
    description = `this machine's addresses and host name with port ${port} (bound to ${bound}); to use another name, bind --api to it`;
  } else if (isLoopback(bound)) {
    for (const n of [bound, ...LOOPBACK_NAMES]) names.add(n);
    description = `${withPort(bound, port)}, localhost:${port}, 127.0.0.1:${port} or [::1]:${port}`;
  } else {
    names.add(bound);
    description = withPort(bound, port);
  }
  const hosts = new Set<string>();
  for (const n of names) {
    hosts.add(withPort(n, port));
    if (port === 80) hosts.add(n.includes(':') ? `[${n}]` : n);
  }
  return { hosts, description };
}

/** Why a request's Host header is refused, or null when it names this API. */
export function hostProblem(host: string | undefined, served: ServedHosts): string | null {
  if (host === undefined || host === '') return `the request has no Host header; send one naming this API (${served.description})`;
  if (served.hosts.has(host.trim().toLowerCase())) return null;
  return `Host ${JSON.stringify(host)} is not an address this API serves (it answers to ${served.description}); refused to prevent DNS rebinding`;
}

/** Why a request's Origin header is refused, or null when there is none or it is this API's own. */
export function originProblem(origin: string | undefined, served: ServedHosts): string | null {
  if (origin === undefined) return null;
  let url: URL | null = null;
  try {
    url = new URL(origin);
  } catch {
    // `null` (a sandboxed page, a file:// page) and anything else unparseable are not ours either.
  }
  if (url !== null && url.protocol === 'http:' && served.hosts.has(url.host)) return null;
  return `Origin ${JSON.stringify(origin)} is not this API's own origin: cross-site requests are refused (the dashboard served here, the CLI and curl are not affected)`;
}

/**
 * Refuses a request whose Host this API does not serve (421) or whose Origin is another site's
 * (403). Install before every other onRequest hook, so no route (the dashboard's included) and no
 * token check sees such a request. `served` is null until the server knows its port.
 */
export function installHostGuard(app: FastifyInstance, served: () => ServedHosts | null): void {
  app.addHook('onRequest', async (req, reply) => {
    const s = served();
    if (s === null) return refuse(reply, 503, 'the API is still starting');
    const hostWrong = hostProblem(req.headers.host, s);
    if (hostWrong !== null) return refuse(reply, 421, hostWrong);
    const originWrong = originProblem(req.headers.origin, s);
    if (originWrong !== null) return refuse(reply, 403, originWrong);
  });
}

function refuse(reply: FastifyReply, status: number, error: string): FastifyReply {
  const body: ApiError = { error };
  return reply.code(status).send(body);
}

function withPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Every interface address of this machine (without an IPv6 zone) and its host name. */
function machineNames(): string[] {
  const addrs = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.split('%')[0] ?? a.address));
  return [...addrs, os.hostname()];
}
