// GET /v1/events: server-sent events of job and task changes, one event per scheduler effect as
// this node applies it. The hub formats each batch once (and only when someone listens); each
// client is a response stream whose unsent bytes are bounded: a client that reads slower than
// the cluster changes is disconnected rather than allowed to grow the node's memory.
import type { Effect } from '../scheduler/types.js';

/** What one SSE event carries (the `data:` JSON); `event:` is its `type`. */
export type ApiEvent =
  | {
      readonly type: 'task';
      readonly index: number;
      readonly job: string;
      readonly task: string;
      readonly from: string;
      readonly to: string;
      readonly node: string | null;
      readonly attempt: number;
      readonly reason: string | null;
    }
  /** Tasks `start` .. `end - 1` (indexes in the job's task list, all of one spec) changed together. */
  | {
      readonly type: 'tasks';
      readonly index: number;
      readonly job: string;
      readonly start: number;
      readonly end: number;
      readonly from: string;
      readonly to: string;
      readonly reason: string | null;
    }
  | { readonly type: 'job'; readonly index: number; readonly job: string; readonly state: string }
  | { readonly type: 'removed'; readonly index: number; readonly job: string };

/** The API events of one applied entry's effects (stop, ignored and rejected submits are not job or task changes). */
export function effectEvents(effects: readonly Effect[], index: number): ApiEvent[] {
  const out: ApiEvent[] = [];
  for (const e of effects) {
    switch (e.type) {
      case 'task':
        out.push({
          type: 'task',
          index,
          job: e.job,
          task: e.name,
          from: e.from,
          to: e.to,
          node: e.node,
          attempt: e.attempt,
          reason: e.reason,
        });
        break;
      case 'tasks':
        out.push({ type: 'tasks', index, job: e.job, start: e.start, end: e.end, from: e.from, to: e.to, reason: e.reason });
        break;
      case 'job':
        out.push({ type: 'job', index, job: e.job, state: e.state });
        break;
      case 'submitted':
        if (!e.existing) out.push({ type: 'job', index, job: e.job, state: 'submitted' });
        break;
      case 'removed':
        out.push({ type: 'removed', index, job: e.job });
        break;
      default:
        break;
    }
  }
  return out;
}

/** One SSE frame: `event`, `id` (the log index) and the JSON on one `data:` line (JSON has no raw newlines). */
export function formatEvent(ev: ApiEvent): string {
  return `event: ${ev.type}\nid: ${ev.index}\ndata: ${JSON.stringify(ev)}\n\n`;
}

/** The part of a response stream a client needs (http.ServerResponse has it). */
export interface EventSink {
  write(chunk: string): boolean;
  /** Bytes accepted by write() but not yet handed to the socket. */
  readonly writableLength: number;
  destroy(err?: Error): void;
}

export interface EventHubOptions {
  /** Unsent bytes a client may have before it is disconnected. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** A keep-alive comment this often. Default 15 s. */
  readonly keepAliveMs?: number;
  /** Concurrent clients; more are refused. Default 256. */
  readonly maxClients?: number;
}

export const DEFAULT_SSE_BUFFER_BYTES = 1 << 20;
const DEFAULT_KEEPALIVE_MS = 15_000;
const DEFAULT_MAX_CLIENTS = 256;

interface Client {
  readonly sink: EventSink;
  readonly onDrop: (why: string) => void;
}

export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly maxBuffered: number;
  private readonly keepAliveMs: number;
  private readonly maxClients: number;
  private timer: NodeJS.Timeout | null = null;
  /** Clients disconnected for being too slow (diagnostics, tests). */
  slowDisconnects = 0;

  constructor(opts: EventHubOptions = {}) {
    this.maxBuffered = opts.maxBufferedBytes ?? DEFAULT_SSE_BUFFER_BYTES;
    this.keepAliveMs = opts.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.maxClients = opts.maxClients ?? DEFAULT_MAX_CLIENTS;
  }

  get size(): number {
    return this.clients.size;
  }

  /** No room for another client. */
  get full(): boolean {
    return this.clients.size >= this.maxClients;
  }

  /**
   * Adds a client; null when there are too many. The returned function removes it (call it when
   * the connection closes). `onDrop` is called when the hub itself disconnects the client.
   */
  subscribe(sink: EventSink, onDrop: (why: string) => void = () => undefined): (() => void) | null {
    if (this.clients.size >= this.maxClients) return null;
    const c: Client = { sink, onDrop };
    this.clients.add(c);
    if (this.timer === null) {
      this.timer = setInterval(() => this.broadcast(': keep-alive\n\n'), this.keepAliveMs);
      this.timer.unref();
    }
    return () => this.remove(c);
  }

  /** Effects applied at `index`: sent to every client as one write. */
  publish(effects: readonly Effect[], index: number): void {
    if (this.clients.size === 0) return;
    const events = effectEvents(effects, index);
    if (events.length === 0) return;
    let chunk = '';
    for (const ev of events) chunk += formatEvent(ev);
    this.broadcast(chunk);
  }

  /** Something replaced the whole state (a snapshot from the leader): clients should re-read. */
  publishReset(index: number): void {
    this.broadcast(`event: reset\nid: ${index}\ndata: {"type":"reset","index":${index}}\n\n`);
  }

  close(): void {
    for (const c of [...this.clients]) {
      this.remove(c);
      c.sink.destroy();
    }
  }

  private broadcast(chunk: string): void {
    if (this.clients.size === 0) return;
    const bytes = Buffer.byteLength(chunk);
    for (const c of this.clients) {
      // Whatever the client has not taken yet plus this chunk: over the bound, it is cut off.
      if (c.sink.writableLength + bytes > this.maxBuffered) {
        this.slowDisconnects++;
        this.remove(c);
        c.onDrop(`more than ${this.maxBuffered} bytes of events unsent: the client reads too slowly`);
        c.sink.destroy();
        continue;
      }
      c.sink.write(chunk);
    }
  }

  private remove(c: Client): void {
    this.clients.delete(c);
    if (this.clients.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
