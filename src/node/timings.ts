// The node's clocks, in one place so that the simulator's scenarios (sim/scenario) run with
// exactly what production runs: 50 ms ticks, elections after 10-20 ticks (0.5-1 s), heartbeats
// every 2 ticks (failover well under a second), load gossip once a second, and the leader's time
// keeper looking ten times a second whether a `tick` entry is due.
export const NODE_TIMINGS = {
  tickMs: 50,
  electionTicks: 10,
  heartbeatTicks: 2,
  gossipMs: 1000,
  timeKeeperMs: 100,
} as const;
