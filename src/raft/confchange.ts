import type { ConfChange, ConfState, Entry, NodeId } from './types.js';

/**
 * The membership after `cc`, or an error naming why it is refused. Single-server changes only:
 * each changes the voter set by at most one node, so any two consecutive configurations share a
 * majority (thesis section 4.1), provided one change is applied before the next is proposed.
 */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState | { error: string } {
  const voters = conf.voters.filter((v) => v !== cc.node);
  const learners = conf.learners.filter((v) => v !== cc.node);
  switch (cc.type) {
    case 'addVoter':
      voters.push(cc.node);
      break;
    case 'addLearner':
      learners.push(cc.node);
      break;
    case 'remove':
      break;
  }
  if (voters.length === 0) return { error: `removing ${cc.node} would leave no voters` };
  return { voters, learners };
}

export function isVoter(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id);
}

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

/**
 * Whether a conf entry may change `conf`: its proposer is one of the voters. A node whose
 * configuration has no voters yet (it joined and replays the log from its start) takes the
 * cluster's first changes as they come: the founding node records its own seat as the log's
 * first change (see node.ts), and a joiner hears only the members its join answer named.
 */
export function proposedByVoter(conf: ConfState, e: Entry): boolean {
  return conf.voters.length === 0 || isVoter(conf, e.proposer);
}
