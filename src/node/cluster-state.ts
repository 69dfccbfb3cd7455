// The node's replicated state machine: the address book every member needs to dial every other
// after restarts, the test hook's probe list, and the scheduler's state behind `app` entries. Applying the same entries in the same order gives every replica the same state, and a
// snapshot of it restores exactly that state.
//
// Its snapshot keeps a small hand-written codec (codec/binary.ts) while the log's entries come from
// schemas (src/proto): it is a few fields around the scheduler's snapshot, which is hand-written
// and canonical (scheduler/snapshot-codec.ts), and keeps that promise (equal states, equal bytes;
// the address book is written sorted), which protobuf does not make.
import { Reader, Writer, type DecodeResult } from '../codec/binary.js';
import { decodeConfChange } from '../raft/codec.js';
import { applyConfChange, isMember, isVoter, proposedByVoter } from '../raft/confchange.js';
import type { ConfState, Entry, NodeId, Snapshot } from '../raft/types.js';
import type { StateMachine } from './driver.js';
import { decodeEnvelope, MAX_ADDR_BYTES, MAX_PROBE_BYTES, type NodeEntry } from './entry-envelope.js';
import type { Decision } from './proposal.js';
import { errorMessage } from '../errors.js';

/**
 * The scheduler's state machine (SchedulerHost): it owns the `app` entries and its part of the
 * snapshot, and answers each applied command with A (the scheduler's effects of that command).
 */
export interface AppMachine<A> {
  apply(data: Uint8Array, entry: Entry): A;
  encode(): Uint8Array;
  /** Starts encoding the state as it is now in slices (docs/architecture.md §5, Compaction); absent: encode() only. */
  startEncode?(): SlicedEncoding;
  restore(data: Uint8Array): void;
}

/**
 * A snapshot being encoded a slice at a time while entries go on being applied: each `step(budget)`
 * writes about `budget` tasks and the last returns the bytes of the state as it was when it
 * started; `abandon()` when it will not be finished (the state was replaced).
 */
export interface SlicedEncoding {
  step(budget: number): Uint8Array | null;
  abandon(): void;
}

/**
 * What applying one entry decided, the answer to the proposal that carried it (RaftDriver.propose,
 * docs/architecture.md §15): the app machine's answer to a command; whether a membership change
 * took effect, and the membership after it; or why the entry changed nothing.
 */
export type EntryOutcome<A> =
  | { readonly kind: 'app'; readonly answer: A }
  | { readonly kind: 'address' | 'leave' | 'probe' }
  /** `changed`: the membership is not what it was (a change to what already holds, or refused, is not). */
  | { readonly kind: 'conf'; readonly changed: boolean; readonly conf: ConfState }
  /** A leader's empty entry. */
  | { readonly kind: 'noop' }
  | { readonly kind: 'undecodable'; readonly error: string }
  /** It spoke for another node than its proposer (speaksFor). */
  | { readonly kind: 'refused' };

/**
 * What listeners hear after each applied node entry (not for no-ops, conf changes, undecodable
 * data, or entries refused because they speak for another node than their proposer).
 */
export interface Applied {
  readonly index: number;
  readonly entry: NodeEntry;
  /** The member that proposed it (Entry.proposer). */
  readonly proposer: NodeId;
}

/** The probe list is a test hook: keep the newest ones only, the same on every replica. */
export const MAX_PROBES = 1000;
const SNAPSHOT_VERSION = 1;

export class ClusterState<A = unknown> implements StateMachine<EntryOutcome<A>> {
  /** Index of the last entry applied (or restored from a snapshot). */
  applied = 0;
  /** The replicas' shared clock: the largest leader timestamp among applied entries (docs/architecture.md §6). */
  time = 0;
  /** Entries whose data did not decode: counted, skipped the same way on every replica. */
  undecodable = 0;
  /** Address and leave entries refused because their proposer may not speak for the node they name. */
  refused = 0;
  /**
   * The membership as of `applied`, replayed from the log's conf entries (and a snapshot's), so the
   * rules below judge every entry against the same membership on every replica.
   */
  private conf: ConfState = { voters: [], learners: [] };
  private readonly addresses = new Map<NodeId, readonly string[]>();
  private probeValues: string[] = [];
  private readonly listeners = new Set<(a: Applied) => void>();

  /** `bootstrap`: the membership before the log's first entry (a test cluster's founders; empty in a joiner). */
  constructor(
    private readonly app?: AppMachine<A>,
    bootstrap?: ConfState,
  ) {
    if (bootstrap) this.conf = bootstrap;
  }

  /** Called after each applied node entry; returns the unsubscribe function. */
  onApplied(listener: (a: Applied) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  addressesOf(id: NodeId): readonly string[] | undefined {
    return this.addresses.get(id);
  }

  addressBook(): ReadonlyMap<NodeId, readonly string[]> {
    return this.addresses;
  }

  probes(): readonly string[] {
    return this.probeValues;
  }

  apply(e: Entry): Decision<EntryOutcome<A>> {
    this.applied = e.index;
    if (e.time > this.time) this.time = e.time;
    if (e.type === 'conf') return { request: null, result: this.applyConf(e) };
    // An empty normal entry is a new leader's no-op.
    if (e.data.length === 0) return { request: null, result: { kind: 'noop' } };
    const d = decodeEnvelope(e.data);
    if (!d.ok) {
      this.undecodable++;
      return { request: null, result: { kind: 'undecodable', error: d.error } };
    }
    const { entry, request } = d.value;
    return { request, result: this.applyNodeEntry(e, entry) };
  }

  private applyNodeEntry(e: Entry, entry: NodeEntry): EntryOutcome<A> {
    if (!this.speaksFor(entry, e.proposer)) {
      this.refused++;
      return { kind: 'refused' };
    }
    let outcome: EntryOutcome<A>;
    switch (entry.kind) {
      case 'address':
        this.addresses.set(entry.id, [...entry.addrs]);
        outcome = { kind: 'address' };
        break;
      case 'leave':
        outcome = { kind: 'leave' };
        break;
      case 'probe':
        this.probeValues.push(entry.value);
        if (this.probeValues.length > MAX_PROBES) this.probeValues = this.probeValues.slice(-MAX_PROBES);
        outcome = { kind: 'probe' };
        break;
      case 'app':
        // Without an app machine (tests of this layer alone) a command changes nothing.
        outcome = this.app === undefined ? { kind: 'noop' } : { kind: 'app', answer: this.app.apply(entry.data, e) };
        break;
    }
    for (const l of this.listeners) l({ index: e.index, entry, proposer: e.proposer });
    return outcome;
  }

  /**
   * A node's address is said by the node itself, or by a voter (the leader admitting a joiner);
   * a leave request only by the node that leaves. While the log has not named a voter yet (its
   * first entries), anyone the leader appended counts.
   */
  private speaksFor(entry: NodeEntry, proposer: NodeId): boolean {
    switch (entry.kind) {
      case 'address':
        return entry.id === proposer || this.conf.voters.length === 0 || isVoter(this.conf, proposer);
      case 'leave':
        return entry.id === proposer && isMember(this.conf, proposer);
      default:
        return true;
    }
  }

  /** Raft applies the change itself; this replays it to judge later entries by the same rule. */
  private applyConf(e: Entry): EntryOutcome<A> {
    const unchanged = { kind: 'conf', changed: false, conf: this.conf } as const;
    if (!proposedByVoter(this.conf, e)) return unchanged;
    const cc = decodeConfChange(e.data);
    const next = cc.ok ? applyConfChange(this.conf, cc.value) : null;
    if (next === null || 'error' in next) return unchanged;
    const changed = !sameMembers(this.conf, next);
    this.conf = next;
    return { kind: 'conf', changed, conf: next };
  }

  restore(snapshot: Snapshot): void {
    const d = decodeClusterSnapshot(snapshot.data);
    // A snapshot that does not decode cannot be applied around: the replica would diverge.
    if (!d.ok) throw new Error(`cluster state: cannot restore the snapshot at ${snapshot.meta.index}: ${d.error}`);
    this.addresses.clear();
    for (const [id, addrs] of d.value.addresses) this.addresses.set(id, addrs);
    this.probeValues = [...d.value.probes];
    this.time = d.value.time;
    this.applied = snapshot.meta.index;
    this.conf = snapshot.meta.conf;
    this.app?.restore(d.value.app);
  }

  /** Starts encoding the state as of `applied` in slices (see SlicedEncoding); the last step's bytes are what encode() gives now. */
  startEncode(): SlicedEncoding {
    const frozen = { time: this.time, addresses: new Map(this.addresses), probes: [...this.probeValues] };
    const app = this.app?.startEncode?.() ?? null;
    const whole = app === null ? (this.app?.encode() ?? new Uint8Array(0)) : null;
    return {
      step: (budget) => {
        const bytes = app === null ? whole : app.step(budget);
        return bytes === null ? null : encodeClusterSnapshot({ ...frozen, app: bytes });
      },
      abandon: () => app?.abandon(),
    };
  }

  /** The state as of `applied`, for RaftNode.compact. */
  encode(): Uint8Array {
    return encodeClusterSnapshot({
      time: this.time,
      addresses: this.addresses,
      probes: this.probeValues,
      app: this.app?.encode() ?? new Uint8Array(0),
    });
  }
}

function sameMembers(a: ConfState, b: ConfState): boolean {
  const same = (x: readonly NodeId[], y: readonly NodeId[]): boolean => x.length === y.length && x.every((id) => y.includes(id));
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}

export interface ClusterSnapshot {
  readonly time: number;
  readonly addresses: ReadonlyMap<NodeId, readonly string[]>;
  readonly probes: readonly string[];
  readonly app: Uint8Array;
}

export function encodeClusterSnapshot(s: ClusterSnapshot): Uint8Array {
  const w = new Writer(256 + s.app.length);
  w.u8(SNAPSHOT_VERSION);
  w.f64(s.time);
  // Sorted, so equal states encode to equal bytes whatever order they were built in.
  const ids = [...s.addresses.keys()].sort();
  w.varint(ids.length, 'address book size');
  for (const id of ids) {
    const addrs = s.addresses.get(id) ?? [];
    w.string(id);
    w.varint(addrs.length, 'address count');
    for (const a of addrs) w.string(a);
  }
  w.varint(s.probes.length, 'probe count');
  for (const p of s.probes) w.string(p);
  w.bytes(s.app, 'app state');
  return w.finish().slice();
}

export function decodeClusterSnapshot(bytes: Uint8Array): DecodeResult<ClusterSnapshot> {
  const r = new Reader(bytes, 'cluster snapshot');
  try {
    const version = r.u8('version');
    if (version !== SNAPSHOT_VERSION) r.fail(`unknown version ${version} (this build reads ${SNAPSHOT_VERSION})`);
    const time = r.f64('time');
    if (!Number.isFinite(time) || time < 0) r.fail(`bad time ${time}`);
    const addresses = new Map<NodeId, readonly string[]>();
    const n = r.count('address book size', 3);
    for (let k = 0; k < n; k++) {
      const id = r.id('node id');
      const m = r.count('address count', 1);
      const addrs: string[] = [];
      for (let j = 0; j < m; j++) addrs.push(r.string('address', MAX_ADDR_BYTES));
      addresses.set(id, addrs);
    }
    const p = r.count('probe count', 1);
    const probes: string[] = [];
    for (let k = 0; k < p; k++) probes.push(r.string('probe', MAX_PROBE_BYTES));
    const app = r.span('app state').slice();
    r.end();
    return { ok: true, value: { time, addresses, probes, app } };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}
