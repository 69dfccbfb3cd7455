// Bounds on big submits in parts (staging.ts, docs/architecture.md §3): the codec refuses a part
// numbered outside them, the state machine a staging that would pass them.
import type { Ms } from './types.js';

export const STAGING_LIMITS = {
  /** Parts of one submit: 50,000 specs (DAG_LIMITS.maxSpecs) in slices of at least 200 on average. */
  maxParts: 256,
  /** Submits staged at once, cluster-wide; one more is refused until one completes or expires. */
  maxStaged: 8,
  /**
   * A staged submit whose next part has not applied within this much scheduler time (entry
   * timestamps) is dropped: its proposer died or gave up, and a retry stages anew under a new id.
   */
  idleMs: 60_000 as Ms,
} as const;
