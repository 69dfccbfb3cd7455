// `meshrun node` options: parsed and validated in one place, so a bad value is refused before
// anything starts, with a message naming the flag and the problem (the CLI exits 2 on it).
import os from 'node:os';
import { resolve } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { isLoopback } from '../api/host-guard.js';
import { NODE_NAME } from '../net/load-report.js';
import { parseLabels } from '../scheduler/placement.js';
import type { Labels } from '../scheduler/types.js';
import { resolveApiToken, TOKEN_SOURCES, type TokenSource } from './api-token.js';
import { DEFAULT_API, DEFAULT_DATA_DIR, DEFAULT_LISTEN } from './defaults.js';

export { DEFAULT_API, DEFAULT_DATA_DIR, DEFAULT_LISTEN };

export interface ApiAddress {
  readonly host: string;
  readonly port: number;
}

export interface NodeOptions {
  /** Absolute path of the data directory (identity, Raft store). */
  readonly dataDir: string;
  readonly listen: readonly string[];
  readonly api: ApiAddress;
  readonly bootstrap: readonly string[];
  readonly slots: number;
  readonly voters: number;
  readonly swarmKeyFile: string | null;
  /** From --api-token-file or MESHRUN_TOKEN (see api-token.ts); null: the API asks for none. */
  readonly apiToken: string | null;
  readonly apiTokenSource: TokenSource | null;
  /** Enables POST /v1/debug/probe and GET /v1/debug/probes (hidden flag, for tests). */
  readonly testHooks: boolean;
  /** Installs the partition gate and POST /v1/test/partition, /v1/test/heal (hidden flag, test only). */
  readonly testPartitions: boolean;
  readonly replaceAfterMs: number;
  /** Compact the log (snapshot the state machine) every this many applied entries. */
  readonly snapshotEvery: number;
  /** How long a joining node keeps trying its bootstrap peers before giving up. */
  readonly joinTimeoutMs: number;
  /** A readable name shown next to (or instead of) the peer id: --name, default the host name. */
  readonly name: string;
  /** Cap on the task logs in <data>/logs, bytes; 0 for none (docs/cli.md §4). */
  readonly maxLogBytes: number;
  /** --label KEY=VALUE, keys in order: what tasks' `on:` asks for (docs/dag-file.md §14). */
  readonly labels: Labels;
}

export const DEFAULT_MAX_LOG_BYTES = 1024 ** 3;

/** The host name as a node name: what NODE_NAME accepts (other characters become '-'), or 'node'. */
export function defaultNodeName(host: string = os.hostname()): string {
  const cleaned = host
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64);
  return NODE_NAME.test(cleaned) ? cleaned : 'node';
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** `1073741824`, `512MiB`, `1G`, `2GB` (every unit a power of 1024); null when it is none of those. */
export function parseSize(s: string): number | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$/.exec(s);
  if (!m) return null;
  const unit = SIZE_UNITS[(m[2] ?? '').toLowerCase()];
  if (unit === undefined) return null;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : null;
}

const positiveInt = (flag: string) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const s = String(v).trim();
    if (!/^[0-9]+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s))) {
      ctx.addIssue({ code: 'custom', message: `${flag} must be a positive integer, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return Number(s);
  });

const duration = (flag: string) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDuration(String(v));
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `${flag} must be a duration like 250ms, 30s, 10m, 1h or 1d, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

const size = (flag: string) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const n = parseSize(String(v));
    if (n === null) {
      ctx.addIssue({
        code: 'custom',
        message: `${flag} must be a size like 1073741824, 512MiB or 1GiB (0 for no cap), got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return n;
  });

const nodeName = z.string().superRefine((s, ctx) => {
  if (!NODE_NAME.test(s))
    ctx.addIssue({
      code: 'custom',
      message: `--name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got ${JSON.stringify(s)}`,
    });
});

const listenAddr = z.string().superRefine((s, ctx) => {
  const problem = multiaddrProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: `--listen ${JSON.stringify(s)}: ${problem}` });
});

const bootstrapAddr = z.string().superRefine((s, ctx) => {
  const problem =
    multiaddrProblem(s) ?? (/\/p2p\/[^/]+$/.test(s) ? null : 'must end with /p2p/<peer id> (copy the "listening" line the node printed)');
  if (problem) ctx.addIssue({ code: 'custom', message: `--bootstrap ${JSON.stringify(s)}: ${problem}` });
});

const apiAddr = z.string().transform((s, ctx) => {
  const a = parseHostPort(s);
  if (!a) {
    ctx.addIssue({ code: 'custom', message: `--api must be HOST:PORT (port 0-65535), got ${JSON.stringify(s)}` });
    return z.NEVER;
  }
  return a;
});

const schema = z
  .object({
    data: z.string().min(1, '--data must not be empty').default(DEFAULT_DATA_DIR),
    listen: z.array(listenAddr).default([DEFAULT_LISTEN]),
    api: apiAddr.prefault(DEFAULT_API),
    bootstrap: z.array(bootstrapAddr).default([]),
    slots: positiveInt('--slots').optional(),
    voters: positiveInt('--voters')
      .refine((n) => n % 2 === 1, {
        error: '--voters must be odd (1, 3, 5, ...): an even count tolerates no more failures than the odd count below it',
      })
      .default(3),
    swarmKey: z.string().min(1).optional(),
    // Accepted by the parser only to be refused with a message that says what to use instead.
    apiToken: z.unknown().optional(),
    apiTokenFile: z.string().min(1, '--api-token-file must not be empty').optional(),
    testHooks: z.boolean().default(false),
    testPartitions: z.boolean().default(false),
    replaceAfter: duration('--replace-after').default(30_000),
    snapshotEvery: positiveInt('--snapshot-every').default(10_000),
    joinTimeout: duration('--join-timeout').default(30_000),
    name: nodeName.optional(),
    maxLogBytes: size('--max-log-bytes').default(DEFAULT_MAX_LOG_BYTES),
    label: z.array(z.string()).default([]),
  })
  .superRefine((o, ctx) => {
    if (o.apiToken !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `--api-token is refused: a token on the command line is visible to every user of this machine (ps, /proc); use ${TOKEN_SOURCES}`,
      });
    }
    if (o.swarmKey === undefined) {
      // An invalid address has its own message already.
      for (const addr of o.listen.filter((a) => multiaddrProblem(a) === null && !isLoopbackMultiaddr(a))) {
        ctx.addIssue({
          code: 'custom',
          message: `--listen ${addr} is not a loopback address: listening beyond this machine requires --swarm-key FILE (without one, anyone who can reach the port can join; create the file once with \`meshrun keygen FILE\` and give every node a copy)`,
        });
      }
    }
  });

export type ParseResult = { readonly ok: true; readonly value: NodeOptions } | { readonly ok: false; readonly error: string };

/**
 * Validates the raw option values (as commander hands them over: strings, arrays, booleans).
 * `env` is where MESHRUN_TOKEN is read (the process environment unless a test passes its own).
 */
export function parseNodeOptions(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ParseResult {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const msgs = r.error.issues.map((i) =>
      i.code === 'custom' || i.path.length === 0 ? i.message : `--${kebab(String(i.path[0]))}: ${i.message}`,
    );
    return { ok: false, error: [...new Set(msgs)].join('; ') };
  }
  const o = r.data;
  const labels = parseLabels(o.label);
  if (!labels.ok) return { ok: false, error: labels.problems.join('; ') };
  const token = resolveApiToken({ file: o.apiTokenFile, env });
  if (!token.ok) return token;
  if (!isLoopback(o.api.host) && token.token === null) {
    return {
      ok: false,
      error: `--api ${o.api.host}:${o.api.port} is not a loopback address: binding the API elsewhere requires a token (${TOKEN_SOURCES})`,
    };
  }
  return {
    ok: true,
    value: {
      dataDir: resolve(o.data),
      listen: o.listen.length > 0 ? o.listen : [DEFAULT_LISTEN],
      api: o.api,
      bootstrap: o.bootstrap,
      slots: o.slots ?? os.availableParallelism(),
      voters: o.voters,
      swarmKeyFile: o.swarmKey !== undefined ? resolve(o.swarmKey) : null,
      apiToken: token.token,
      apiTokenSource: token.source,
      testHooks: o.testHooks,
      testPartitions: o.testPartitions,
      replaceAfterMs: o.replaceAfter,
      snapshotEvery: o.snapshotEvery,
      joinTimeoutMs: o.joinTimeout,
      name: o.name ?? defaultNodeName(),
      maxLogBytes: o.maxLogBytes,
      labels: labels.labels,
    },
  };
}

const FLAG_UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** `250ms`, `2s`, `10m`, `1h`, `1d`, `1w`, or a bare number of milliseconds; null when it is none of those. */
export function parseDuration(s: string): number | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  // The pattern admits only the units of FLAG_UNIT_MS.
  const ms = n * FLAG_UNIT_MS[(m[2] ?? 'ms') as keyof typeof FLAG_UNIT_MS];
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : null;
}

export function parseHostPort(s: string): ApiAddress | null {
  // [::1]:7070 for IPv6, host:port otherwise.
  const m = /^\[([^\]]+)\]:([0-9]{1,5})$/.exec(s) ?? /^([^:[\]]+):([0-9]{1,5})$/.exec(s);
  const [, host, portText] = m ?? [];
  if (host === undefined || portText === undefined) return null;
  const port = Number(portText);
  if (port > 65535) return null;
  return { host, port };
}

/**
 * Whether every connection to `addr` has to come from this machine: an IP loopback address or the
 * name localhost. Anything else, a wildcard or a protocol not understood here, counts as reachable.
 */
export function isLoopbackMultiaddr(addr: string): boolean {
  let first;
  try {
    first = multiaddr(addr).getComponents()[0];
  } catch {
    return false;
  }
  if (first === undefined || first.value === undefined) return false;
  return ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(first.name) && isLoopback(first.value);
}

function multiaddrProblem(s: string): string | null {
  try {
    multiaddr(s);
    return null;
  } catch (err) {
    return `not a valid multiaddr (${errorMessage(err)})`;
  }
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
