// `npm run bench -- codec`: the codecs on the hot path, in one process with no I/O. Encodes and
// decodes a 64-entry append (256-byte commands, a libp2p peer id as the proposer), the same run as
// a storage segment, a heartbeat response, and the scheduler's claim and finish commands as a busy
// worker proposes them. Prints operations per second and nanoseconds per operation (best round, in
// CPU time), and writes bench/results/codec.json.
import { performance } from 'node:perf_hooks';
import { decodeEntries, decodeMessage, encodeEntries, encodeMessage } from '../src/raft/codec.js';
import type { Entry, Message } from '../src/raft/types.js';
import { decodeCommand, encodeCommand } from '../src/scheduler/command-codec.js';
import type { Command } from '../src/scheduler/types.js';
import { payload } from './proposers.js';
import { printTable, writeResults, type Row } from './report.js';

const PEER = '12D3KooWBhMbLvQW9Sxzs1vmS3BEXoNbYCZWb8tiwrNHaz2bSZ5m';
const PEER2 = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
/** Time spent on each case after its warm-up, in ROUNDS rounds. */
const RUN_MS = 2_000;
const ROUNDS = 10;

function appendOf(n: number, bytes: number): Message {
  const data = payload(bytes);
  const entries: Entry[] = Array.from({ length: n }, (_, k) => ({
    index: 1_000_001 + k,
    term: 7,
    type: 'normal',
    time: 1_700_000_000_000 + k * 0.25,
    proposer: k % 4 === 0 ? PEER2 : PEER,
    data,
  }));
  return { type: 'app', from: PEER, to: PEER2, term: 7, prevIndex: 1_000_000, prevTerm: 7, entries, commit: 999_990 };
}

const JOB = 'j-01HZX3K5Q8W6T2M9N4B7C1D0EF';
const claim: Command = {
  type: 'claim',
  node: PEER,
  boot: 2_845_117_301,
  tasks: Array.from({ length: 8 }, (_, k) => ({ job: JOB, task: 1200 + k })),
};
const finish: Command = {
  type: 'finish',
  node: PEER,
  boot: 2_845_117_301,
  claimNext: true,
  results: Array.from({ length: 8 }, (_, k) => ({
    job: JOB,
    task: 1200 + k,
    attempt: 1,
    outcome: 'succeeded' as const,
    exitCode: 0,
    durationMs: 12 + k,
    stdout: k === 0 ? 'done\n' : '',
    stderr: '',
  })),
  claims: [{ job: JOB, task: 1300 }],
};

/**
 * Runs `fn` in ROUNDS rounds of RUN_MS / ROUNDS after a warm-up and reports the fastest round,
 * timed in this process's CPU time (user and system), not wall time: the machine is shared, and
 * a process that waits for a core accrues none. `touch` keeps results alive so the JIT cannot drop
 * the work.
 */
function measure(name: string, bytes: number, fn: () => unknown): Row {
  let sink = 0;
  const touch = (v: unknown) => {
    if (v instanceof Uint8Array) sink += v.length;
    else if (v && typeof v === 'object' && 'ok' in v) sink += (v as { ok: boolean }).ok ? 1 : 0;
  };
  const cpuMs = (since?: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1000;
  };
  const warm = performance.now() + 300;
  while (performance.now() < warm) for (let i = 0; i < 100; i++) touch(fn());
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    let ops = 0;
    const c0 = process.cpuUsage();
    let spent = 0;
    while (spent < RUN_MS / ROUNDS) {
      for (let i = 0; i < 100; i++) touch(fn());
      ops += 100;
      spent = cpuMs(c0);
    }
    best = Math.min(best, spent / ops);
  }
  if (sink === 0) throw new Error(`${name}: nothing measured`);
  return { case: name, bytes, 'ops/s': Math.round(1000 / best), 'ns/op': Math.round(best * 1e6) };
}

function pair(name: string, encode: () => Uint8Array, decode: (b: Uint8Array) => { ok: boolean; error?: string }): Row[] {
  const bytes = encode();
  const r = decode(bytes);
  if (!r.ok) throw new Error(`${name}: does not decode: ${r.error}`);
  return [measure(`encode ${name}`, bytes.length, encode), measure(`decode ${name}`, bytes.length, () => decode(bytes))];
}

export async function codecBench(): Promise<void> {
  const app = appendOf(64, 256);
  const entries = (app as Extract<Message, { type: 'app' }>).entries;
  const small = appendOf(64, 32);
  const hbResp: Message = { type: 'heartbeatResp', from: PEER2, to: PEER, term: 7, ctx: '', clock: 1_700_000_000_123.5 };
  const appResp: Message = { type: 'appResp', from: PEER2, to: PEER, term: 7, index: 1_000_064, reject: false, hintIndex: 0, hintTerm: 0 };
  const rows: Row[] = [
    ...pair('append, 64 x 256 B', () => encodeMessage(app), decodeMessage),
    ...pair('append, 64 x 32 B', () => encodeMessage(small), decodeMessage),
    ...pair('segment, 64 x 256 B', () => encodeEntries(entries), decodeEntries),
    ...pair('append response', () => encodeMessage(appResp), decodeMessage),
    ...pair('heartbeat response', () => encodeMessage(hbResp), decodeMessage),
    ...pair('claim, 8 tasks', () => encodeCommand(claim), decodeCommand),
    ...pair('finish, 8 results + claim', () => encodeCommand(finish), decodeCommand),
  ];
  printTable(
    `codec: encode and decode on one core (CPU time, best of ${ROUNDS} rounds of ${RUN_MS / ROUNDS} ms per case, after a warm-up)`,
    rows,
  );
  writeResults('codec', rows, { runMs: RUN_MS, rounds: ROUNDS });
  await Promise.resolve();
}
