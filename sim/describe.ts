import type { Message } from '../src/raft/types.js';

/** Heartbeat traffic: constant, and rarely what a violation report needs to show. */
export function isRoutine(m: Message): boolean {
  return m.type === 'heartbeat' || m.type === 'heartbeatResp';
}

/** One message as a short human-readable line for the trace. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'vote':
      return `${head}${m.pre ? ' pre' : ''}${m.transfer ? ' transfer' : ''} last=${m.lastIndex}/t${m.lastTerm}`;
    case 'voteResp':
      return `${head}${m.pre ? ' pre' : ''} ${m.reject ? 'REJECT' : 'grant'}`;
    case 'app': {
      const n = m.entries.length;
      const span = n === 0 ? 'none' : `${m.prevIndex + 1}..${m.prevIndex + n}`;
      return `${head} prev=${m.prevIndex}/t${m.prevTerm} entries=${span} commit=${m.commit}`;
    }
    case 'appResp':
      return `${head} index=${m.index}${m.reject ? ` REJECT hint=${m.hintIndex}/t${m.hintTerm}` : ''}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.ctx ? ` ctx=${m.ctx}` : ''}`;
    case 'heartbeatResp':
      return `${head}${m.ctx ? ` ctx=${m.ctx}` : ''}`;
    case 'snap':
      return `${head} snap=${m.meta.index}/t${m.meta.term} bytes ${m.offset}+${m.chunk.length}/${m.total}`;
    case 'snapResp':
      return `${head} index=${m.index} offset=${m.offset}${m.reject ? ' REJECT' : ''}`;
    case 'prop':
      return `${head} entries=${m.entries.length}`;
    case 'readIndex':
      return `${head} ctx=${m.ctx}`;
    case 'readIndexResp':
      return `${head} ctx=${m.ctx} index=${m.index}${m.reject ? ' REJECT' : ''}`;
    case 'timeoutNow':
      return head;
  }
}
