// The orphan guard (docs/task-environment.md §5: a task's processes die with the node that started them, even
// when the node is killed with SIGKILL). One small POSIX shell per executor reads "+pgid" and
// "-pgid" lines on its stdin, a pipe only the node holds. When the node dies, however it dies, the
// kernel closes that pipe; the shell reads EOF, sends SIGTERM to every group still recorded, waits
// up to the grace period for them to go, sends SIGKILL to the rest and exits.
//
// Why a shell script: it starts in about a millisecond and costs about a megabyte, where a second
// Node process would take tens of milliseconds and tens of megabytes, and it needs no file on disk
// (it is passed to `sh -c`), so it works the same from the sources and from a build. It only sees
// traffic for `run` tasks, whose own fork and exec cost far more than one line on a pipe.
//
// It runs in its own session and process group (detached), so a Ctrl-C aimed at the node's group
// does not kill it before the node has stopped its tasks gracefully; it then sees EOF with nothing
// left to kill, and exits.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** `$1`: the grace period in tenths of a second. Group ids are kept in a space-padded list. */
export const SUPERVISOR_SCRIPT = `
ticks=$1
groups=' '
while IFS= read -r line; do
  case $line in
    +*) groups="$groups\${line#?} " ;;
    -*) g=\${line#?}
        case $groups in *" $g "*) groups="\${groups%%" $g "*} \${groups#*" $g "}" ;; esac ;;
  esac
done
[ "$groups" = ' ' ] && exit 0
any_alive() {
  for g in $groups; do kill -s 0 -- "-$g" 2>/dev/null && return 0; done
  return 1
}
for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; done
n=0
while [ "$n" -lt "$ticks" ] && any_alive; do sleep 0.1; n=$((n + 1)); done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
exit 0
`;

/** A supervisor that dies sooner than this after starting is restarted after this delay, not at once. */
const RESPAWN_DELAY_MS = 1000;

export interface SupervisorOptions {
  /** SIGTERM to SIGKILL delay for the groups it kills. */
  readonly graceMs: number;
  readonly log: (obj: object, msg: string) => void;
}

export class Supervisor {
  /** Every group currently handed to the supervisor, to hand them again to a replacement. */
  private readonly groups = new Set<number>();
  private closing = false;
  private respawnTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly opts: SupervisorOptions,
    private child: ChildProcess,
    private startedAt: number,
  ) {
    this.watch(child);
  }

  static async start(opts: SupervisorOptions): Promise<Supervisor> {
    const child = await spawnSupervisor(opts.graceMs);
    return new Supervisor(opts, child, Date.now());
  }

  /** The helper's pid (tests kill the node and then check that the helper did its job). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  track(pgid: number): void {
    this.groups.add(pgid);
    this.send(`+${pgid}\n`);
  }

  untrack(pgid: number): void {
    if (this.groups.delete(pgid)) this.send(`-${pgid}\n`);
  }

  /**
   * Closes the pipe: the supervisor kills the groups still tracked (none after a clean shutdown)
   * and exits. Waits at most `timeoutMs` for that; a supervisor still busy killing finishes alone.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    if (this.respawnTimer !== null) clearTimeout(this.respawnTimer);
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([exited, bound]);
    clearTimeout(timer);
  }

  private send(line: string): void {
    const stdin = this.child.stdin;
    if (stdin === null || stdin.destroyed) return;
    stdin.write(line);
  }

  private watch(child: ChildProcess): void {
    // EPIPE when the helper died: its exit handler below starts a replacement.
    child.stdin?.on('error', () => undefined);
    child.on('error', (err) => this.opts.log({ pid: child.pid, err: err.message }, 'task supervisor error'));
    child.once('exit', (code, signal) => {
      if (this.closing) return;
      this.opts.log({ pid: child.pid, code, signal, groups: this.groups.size }, 'task supervisor exited; starting another');
      const delayMs = Date.now() - this.startedAt < RESPAWN_DELAY_MS ? RESPAWN_DELAY_MS : 0;
      this.scheduleRespawn(delayMs);
    });
  }

  private scheduleRespawn(delayMs: number): void {
    this.respawnTimer = setTimeout(() => {
      this.respawnTimer = null;
      if (this.closing) return;
      spawnSupervisor(this.opts.graceMs).then(
        (child) => {
          if (this.closing) {
            child.stdin?.end();
            return;
          }
          this.child = child;
          this.startedAt = Date.now();
          this.watch(child);
          for (const pgid of this.groups) this.send(`+${pgid}\n`);
        },
        (err: unknown) => {
          this.opts.log({ err: String(err) }, 'cannot start the task supervisor; retrying');
          this.scheduleRespawn(RESPAWN_DELAY_MS);
        },
      );
    }, delayMs);
    this.respawnTimer.unref();
  }
}

/** Starts the helper and waits until it runs (or could not start). */
function spawnSupervisor(graceMs: number): Promise<ChildProcess> {
  const ticks = String(Math.max(1, Math.ceil(graceMs / 100)));
  const child = spawn('/bin/sh', ['-c', SUPERVISOR_SCRIPT, 'meshrun-supervisor', ticks], {
    detached: true,
    // Nothing but the pipe: an inherited stdout or stderr would keep the node's pipes open after it died.
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => {
      child.off('error', reject);
      // The guard must never be what keeps the node's event loop alive.
      child.unref();
      (child.stdin as Socket | null)?.unref();
      resolve(child);
    });
  });
}
