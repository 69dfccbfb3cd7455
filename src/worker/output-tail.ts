// Where an attempt's output goes: appended to its log file and, for the `finish` command, the last
// TAIL_BYTES of stdout and of stderr, cut on a UTF-8 character boundary. Handler tasks usually
// print nothing, so neither the tails' buffers nor the log file exist until the first byte.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { TAIL_BYTES } from '../scheduler/types.js';

/** The last `capacity` bytes written to a stream, in a ring buffer allocated on the first byte. */
export class OutputTail {
  private ring: Buffer | null = null;
  /** Where the next byte goes. */
  private end = 0;
  /** The ring has wrapped: its oldest byte is at `end`, and bytes before it were dropped. */
  private wrapped = false;

  constructor(private readonly capacity: number = TAIL_BYTES) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const cap = this.capacity;
    const ring = (this.ring ??= Buffer.allocUnsafe(cap));
    if (chunk.length >= cap) {
      ring.set(chunk.subarray(chunk.length - cap));
      this.end = 0;
      this.wrapped = true;
      return;
    }
    const first = Math.min(chunk.length, cap - this.end);
    ring.set(chunk.subarray(0, first), this.end);
    if (first < chunk.length) {
      ring.set(chunk.subarray(first), 0);
      this.wrapped = true;
    }
    this.end = (this.end + chunk.length) % cap;
    if (this.end === 0) this.wrapped = true;
  }

  /** The kept bytes as text: at most `capacity` bytes of UTF-8, starting on a character boundary. */
  text(): string {
    if (this.ring === null) return '';
    if (!this.wrapped) return lastUtf8Bytes(this.ring.toString('utf8', 0, this.end), this.capacity);
    const bytes = Buffer.concat([this.ring.subarray(this.end), this.ring.subarray(0, this.end)]);
    // The stream was cut in front: drop the continuation bytes of a character whose start was lost.
    return lastUtf8Bytes(bytes.subarray(continuationPrefix(bytes)).toString('utf8'), this.capacity);
  }
}

/**
 * The end of `text` that fits in `maxBytes` of UTF-8, cut on a character boundary. Decoding
 * invalid bytes turns each into U+FFFD (3 bytes), so even decoded ring contents are checked.
 */
export function lastUtf8Bytes(text: string, maxBytes: number = TAIL_BYTES): string {
  // A string of n UTF-16 units encodes to at most 3n bytes: most tails are short and need no encoding.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const cut = bytes.subarray(bytes.length - maxBytes);
  return cut.subarray(continuationPrefix(cut)).toString('utf8');
}

/** How many bytes at the start of `bytes` are UTF-8 continuation bytes (10xxxxxx), at most 3. */
function continuationPrefix(bytes: Uint8Array): number {
  let n = 0;
  while (n < 3 && n < bytes.length && ((bytes[n] ?? 0) & 0xc0) === 0x80) n++;
  return n;
}

/** Creates each job's log directory once per executor (a `mkdir` per task would cost the hot path). */
export class LogDirectories {
  private readonly made = new Set<string>();

  ensure(dir: string): void {
    if (this.made.has(dir)) return;
    // Private: a task's output may hold whatever it printed (credentials included).
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.made.add(dir);
  }

  /** The directory disappeared behind our back (a cleanup): create it again next time. */
  forget(dir: string): void {
    this.made.delete(dir);
  }
}

export interface TaskOutputOptions {
  /** Computed only when the log file is opened; may throw (an invalid name), which disables the file. */
  readonly path: () => string;
  readonly dirs: LogDirectories;
  /** The log file cannot be written: the tails still work, the problem is reported once. */
  readonly onLogError: (err: Error) => void;
}

/** One attempt's output: both tails and the log file, which is opened on first use. */
export class TaskOutput {
  readonly stdout = new OutputTail();
  readonly stderr = new OutputTail();
  private file: WriteStream | null = null;
  /** The log file failed (or cannot be named): stop trying. */
  private broken = false;
  private closed = false;

  constructor(private readonly opts: TaskOutputOptions) {}

  /** Opens the log file now (`run` tasks get one even when they print nothing). */
  open(): void {
    this.logFile();
  }

  out(chunk: Uint8Array): void {
    this.stdout.push(chunk);
    this.logFile()?.write(chunk);
  }

  err(chunk: Uint8Array): void {
    this.stderr.push(chunk);
    this.logFile()?.write(chunk);
  }

  /** A line from meshrun itself (why the attempt failed or was stopped), shown as stderr. */
  note(text: string): void {
    this.err(Buffer.from(`meshrun: ${text}\n`, 'utf8'));
  }

  /** Flushes and closes the log file; writes after this are kept out of the file and the tails. */
  close(): Promise<void> {
    this.closed = true;
    const file = this.file;
    if (file === null || file.closed) return Promise.resolve();
    return new Promise((resolve) => {
      file.once('close', resolve);
      file.end();
    });
  }

  private logFile(): WriteStream | null {
    if (this.broken || this.closed) return null;
    if (this.file !== null) return this.file;
    let path: string;
    try {
      path = this.opts.path();
      this.opts.dirs.ensure(dirname(path));
    } catch (err) {
      this.fail(err);
      return null;
    }
    const file = createWriteStream(path, { flags: 'a', mode: 0o600 });
    // `on`, not `once`: a write queued behind a failed open errors again, and must not crash the node.
    file.on('error', (err: NodeJS.ErrnoException) => {
      if (this.broken) return;
      if (err.code === 'ENOENT') this.opts.dirs.forget(dirname(path));
      this.fail(err);
    });
    this.file = file;
    return file;
  }

  private fail(err: unknown): void {
    this.broken = true;
    this.opts.onLogError(err instanceof Error ? err : new Error(String(err)));
  }
}
