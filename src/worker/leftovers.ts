// Task process groups that outlived a node (docs/task-environment.md §5: "a restarted node kills leftovers
// recorded in its data directory"). While a task runs, its group is recorded in
// <dataDir>/tasks.pids with the leader's start time; at the next start, every recorded group that
// is still the same group is killed, and the file is cleared.
//
// The file is a journal of lines: `+<pgid> <start time>` when a group starts, `-<pgid>` when it is
// gone. Appending a line costs one write; the journal is rewritten with only the live groups when
// it grows much longer than they are.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export const LEDGER_FILE = 'tasks.pids';
/** Rewrite the journal once it has this many lines and at most a quarter of them are live groups. */
const COMPACT_AFTER_LINES = 1024;
/** How often the leftover killer looks whether the groups it sent SIGTERM are gone. */
const POLL_MS = 50;

/**
 * Sends `signal` to every process of group `pgid` (0 only probes); false when the group does not
 * exist any more. Other errors (EPERM: not ours) are thrown.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or null
 * when there is no such process (or no /proc). With the pid it names one process for good: a
 * reused pid has a later start time.
 */
export function procStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // Field 2, the command name, is in parentheses and may itself hold spaces and ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (the state), so field 22 is fields[19].
  return fields[19] ?? null;
}

/** The journal of running task groups in one data directory. */
export class GroupLedger {
  private readonly live = new Map<number, string>();
  private lines = 0;

  private constructor(
    private readonly path: string,
    private fd: number,
  ) {}

  /** Starts an empty journal (leftovers must have been dealt with before: see killLeftovers). */
  static create(dataDir: string): GroupLedger {
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, LEDGER_FILE);
    return new GroupLedger(path, openSync(path, 'w'));
  }

  /** Records a running group; `startTime` is its leader's, '?' when unknown. */
  add(pgid: number, startTime: string): void {
    this.live.set(pgid, startTime);
    this.append(`+${pgid} ${startTime}\n`);
  }

  remove(pgid: number): void {
    if (!this.live.delete(pgid)) return;
    this.append(`-${pgid}\n`);
    if (this.lines >= COMPACT_AFTER_LINES && this.live.size * 4 <= this.lines) this.compact();
  }

  /** Closes the journal; groups still recorded stay there for the next start to kill. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private append(line: string): void {
    if (this.fd < 0) return;
    writeSync(this.fd, line);
    this.lines++;
  }

  /** Writes the live groups to a new file and renames it over the journal, so a crash leaves one or the other. */
  private compact(): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    let text = '';
    for (const [pgid, start] of this.live) text += `+${pgid} ${start}\n`;
    writeSync(fd, text);
    renameSync(tmp, this.path);
    closeSync(this.fd);
    this.fd = fd;
    this.lines = this.live.size;
  }
}

/** The groups a journal says were running when its node stopped, with their leaders' start times. */
export function readLedger(dataDir: string): Map<number, string> {
  let text: string;
  try {
    text = readFileSync(join(dataDir, LEDGER_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const live = new Map<number, string>();
  for (const line of text.split('\n')) {
    // A node killed in the middle of a write leaves a torn last line: it does not match and is skipped.
    const added = /^\+(\d+) (\d+|\?)$/.exec(line);
    if (added) live.set(Number(added[1]), added[2] ?? '?');
    const removed = /^-(\d+)$/.exec(line);
    if (removed) live.delete(Number(removed[1]));
  }
  return live;
}

export interface LeftoverReport {
  /** Groups that were still running and were sent SIGTERM. */
  readonly killed: readonly number[];
  /** Of those, the ones that needed SIGKILL after the grace period. */
  readonly forced: readonly number[];
}

/**
 * Kills the groups recorded in the journal of `dataDir` that still exist and are still ours:
 * SIGTERM, then SIGKILL to whatever is left after `graceMs`.
 */
export async function killLeftovers(dataDir: string, graceMs: number): Promise<LeftoverReport> {
  const killed: number[] = [];
  for (const [pgid, startTime] of readLedger(dataDir)) {
    if (!isStillOurs(pgid, startTime)) continue;
    if (signalGroup(pgid, 'SIGTERM')) killed.push(pgid);
  }
  const deadline = Date.now() + graceMs;
  let alive = killed;
  while (alive.length > 0 && Date.now() < deadline) {
    await delay(POLL_MS);
    alive = alive.filter((pgid) => signalGroup(pgid, 0));
  }
  for (const pgid of alive) signalGroup(pgid, 'SIGKILL');
  return { killed, forced: alive };
}

/**
 * Whether group `pgid` can only be the recorded one. While a group has members its id stays
 * allocated, so a live process with that pid is either the recorded leader (same start time) or
 * a newcomer that got a freed pid (later start time: the old group is gone, leave it alone). With
 * no process of that pid, any group of that id is what is left of the recorded one (its leader
 * exited first).
 */
function isStillOurs(pgid: number, recordedStart: string): boolean {
  const start = procStartTime(pgid);
  // Without /proc nothing can be checked: better to leave a stray than to kill a stranger.
  if (start === null) return process.platform === 'linux';
  return start === recordedStart;
}
