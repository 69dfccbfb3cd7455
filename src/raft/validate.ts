import { MAX_INDEX, MAX_TERM, type Entry, type SnapshotMeta } from './types.js';

// Structural and semantic checks on a message before the core trusts it. A message can come
// from a buggy or hostile peer, or from a decoder that accepted something odd: whatever it is,
// the core must drop it (and count it) rather than throw into the driver or corrupt its state.

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_INDEX;
const isTerm = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_TERM;
const isClock = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isCtx = (v: unknown): v is string => typeof v === 'string' && v.length <= 1024;

function entryProblem(e: unknown, expectIndex: number, maxTerm: number): string | null {
  if (!isObj(e)) return 'entry is not an object';
  if (e['index'] !== expectIndex) return `entry index ${String(e['index'])}, expected ${expectIndex}`;
  if (!isTerm(e['term']) || e['term'] > maxTerm) return `entry ${expectIndex} has a bad term`;
  if (e['type'] !== 'normal' && e['type'] !== 'conf') return `entry ${expectIndex} has a bad type`;
  if (!isClock(e['time'])) return `entry ${expectIndex} has a bad time`;
  if (!isId(e['proposer'])) return `entry ${expectIndex} has no proposer`;
  if (!isBytes(e['data'])) return `entry ${expectIndex} has no data bytes`;
  return null;
}

function metaProblem(m: unknown): string | null {
  if (!isObj(m) || !isIndex(m['index']) || !isTerm(m['term'])) return 'snapshot meta is malformed';
  const conf = m['conf'];
  if (!isObj(conf) || !Array.isArray(conf['voters']) || !Array.isArray(conf['learners'])) return 'snapshot conf is malformed';
  if (!conf['voters'].every(isId) || !conf['learners'].every(isId)) return 'snapshot conf has a bad id';
  return null;
}

/** Null when `m` is a well-formed message; otherwise what is wrong with it. */
export function messageProblem(m: unknown): string | null {
  if (!isObj(m)) return 'not an object';
  if (!isId(m['from']) || !isId(m['to'])) return 'bad from/to';
  if (!isTerm(m['term'])) return 'bad term';
  const term = m['term'];
  switch (m['type']) {
    case 'vote':
      return isBool(m['pre']) && isIndex(m['lastIndex']) && isTerm(m['lastTerm']) && isBool(m['transfer']) ? null : 'bad vote request';
    case 'voteResp':
      return isBool(m['pre']) && isBool(m['reject']) && (m['leader'] === '' || isId(m['leader'])) ? null : 'bad vote response';
    case 'app': {
      if (!isIndex(m['prevIndex']) || !isTerm(m['prevTerm']) || !isIndex(m['commit'])) return 'bad append header';
      if (m['prevIndex'] + (Array.isArray(m['entries']) ? m['entries'].length : 0) > MAX_INDEX) return 'append past the largest index';
      const entries = m['entries'];
      if (!Array.isArray(entries)) return 'append without entries';
      let prevTerm = m['prevTerm'];
      for (let k = 0; k < entries.length; k++) {
        const p = entryProblem(entries[k], m['prevIndex'] + 1 + k, term);
        if (p) return p;
        const t = (entries[k] as Entry).term;
        if (t < prevTerm) return 'append entries with decreasing terms';
        prevTerm = t;
      }
      return null;
    }
    case 'appResp':
      return isIndex(m['index']) && isBool(m['reject']) && isIndex(m['hintIndex']) && isTerm(m['hintTerm']) ? null : 'bad append response';
    case 'heartbeat':
      return isIndex(m['commit']) && isCtx(m['ctx']) && (m['transferee'] === '' || isId(m['transferee'])) ? null : 'bad heartbeat';
    case 'heartbeatResp':
      return isCtx(m['ctx']) && isClock(m['clock']) ? null : 'bad heartbeat response';
    case 'snap': {
      const p = metaProblem(m['meta']);
      if (p) return p;
      if (!isIndex(m['offset']) || !isIndex(m['total']) || !isBytes(m['chunk'])) return 'bad snapshot chunk';
      if (m['offset'] + m['chunk'].length > m['total']) return 'snapshot chunk past its total';
      if ((m['meta'] as SnapshotMeta).term > term) return 'snapshot from a future term';
      return null;
    }
    case 'snapResp':
      return isIndex(m['index']) && isIndex(m['offset']) && isBool(m['reject']) ? null : 'bad snapshot response';
    case 'prop': {
      const entries = m['entries'];
      if (!Array.isArray(entries)) return 'proposal without entries';
      for (const e of entries) {
        if (!isObj(e) || (e['type'] !== 'normal' && e['type'] !== 'conf') || !isBytes(e['data'])) return 'bad proposal';
      }
      return null;
    }
    case 'readIndex':
      return isCtx(m['ctx']) ? null : 'bad read request';
    case 'readIndexResp':
      return isCtx(m['ctx']) && isIndex(m['index']) && isBool(m['reject']) && (m['leader'] === '' || isId(m['leader']))
        ? null
        : 'bad read response';
    case 'timeoutNow':
      return null;
    default:
      return 'unknown message type';
  }
}
