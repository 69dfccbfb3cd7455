// Cluster sizes the simulator runs (docs/simulation.md §2, §7): up to 200 nodes, of which a few
// vote and the rest are learners, as a big meshrun cluster is built (a quorum of 3 to 7 voters;
// every other machine replicates the log and runs tasks).

/** The most nodes `npm run sim`, `meshrun sim` and a scenario file accept. */
export const MAX_SIM_NODES = 200;
/**
 * Up to this many nodes every node may vote (the simulator's historical range, whose seeds the
 * tests and CI name); a bigger cluster has at most MAX_SIM_VOTERS voters.
 */
export const ALL_VOTERS_UP_TO = 9;
export const MAX_SIM_VOTERS = 7;
/** Voters of a random run bigger than ALL_VOTERS_UP_TO when --voters is not given. */
export const DEFAULT_BIG_VOTERS = 5;

/** The most voters a cluster of `nodes` may have. */
export function maxVoters(nodes: number): number {
  return nodes <= ALL_VOTERS_UP_TO ? nodes : MAX_SIM_VOTERS;
}

/**
 * Compare the replicas' whole state after every this many entries (ClusterSetup.stateHashEvery).
 * Hashing encodes the whole scheduler state, on every node, after every entry: in a 20-node run
 * of a 1,000-task job that was half the simulator's time, and it grows with nodes x entries x
 * state. Up to ALL_VOTERS_UP_TO nodes every entry is compared (the traces the tests name stay
 * the same); beyond, a stride that keeps the hashing about what 9 nodes cost. Entries are still
 * compared at every index, and a replica whose state diverges stays diverged, so the next
 * compared index catches it.
 */
export function stateHashStride(nodes: number): number {
  return Math.max(1, Math.ceil(nodes / ALL_VOTERS_UP_TO));
}
