import type { ConfChange, ConfState, NodeId } from './types.js';

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
