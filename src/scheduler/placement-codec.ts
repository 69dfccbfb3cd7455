// Label sets (a node's labels in its heartbeat, a task's `on` in a submitted JobSpec) to and from
// their schema: a list of Label messages in key order (src/proto/scheduler.proto). One form per
// value: keys strictly ascending, so a key given twice or out of order is refused, the same way on
// every replica, and equal label sets are equal bytes.
import { CodecError } from '../codec/binary.js';
import { decodeFail as fail } from '../codec/proto.js';
import type * as pb from '../proto/scheduler.js';
import { PLACEMENT_LIMITS, labelKeyProblem, labelValueProblem } from './placement.js';
import type { Labels } from './types.js';

/** `labels` as Label messages in key order; throws a CodecError naming a bad key or value. */
export function labelsOut(labels: Labels, what: string): pb.Label[] {
  const keys = Object.keys(labels).sort();
  if (keys.length > PLACEMENT_LIMITS.maxLabels)
    throw new CodecError(`${what}: ${keys.length} labels (at most ${PLACEMENT_LIMITS.maxLabels})`);
  return keys.map((key) => {
    const value = labels[key];
    const problem = labelKeyProblem(key) ?? (typeof value === 'string' ? labelValueProblem(key, value) : `label ${key}: not a string`);
    if (problem !== null) throw new CodecError(`${what}: ${problem}`);
    return { key, value: value as string };
  });
}

/** Decoded Label messages as a label set; fails (codec/proto's `fail`) on a bad, repeated or unordered key. */
export function labelsIn(list: readonly pb.Label[], what: string): Labels {
  if (list.length > PLACEMENT_LIMITS.maxLabels) fail(`${what}: ${list.length} labels (at most ${PLACEMENT_LIMITS.maxLabels})`);
  const pairs: [string, string][] = [];
  let previous: string | null = null;
  for (const { key, value } of list) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(key, value);
    if (problem !== null) fail(`${what}: ${problem}`);
    if (previous !== null && key <= previous) fail(`${what}: label ${key} is repeated or out of order`);
    previous = key;
    pairs.push([key, value]);
  }
  return Object.fromEntries(pairs);
}
