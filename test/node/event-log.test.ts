import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/node/event-log.js';
import type { Effect } from '../../src/scheduler/types.js';

function recording(): { log: EventLog; lines: () => Array<Record<string, unknown> & { msg: string; level: number }> } {
  const out: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => out.push(s) });
  return {
    log: new EventLog(logger),
    lines: () => out.map((s) => JSON.parse(s) as Record<string, unknown> & { msg: string; level: number }),
  };
}

const soft = (leader: string | null) => ({ soft: { leader, role: 'follower' as const }, hardState: { term: 3, vote: null, commit: 0 } });

describe('EventLog', () => {
  it('logs each leader change once, and the loss of a leader, with the term', () => {
    const { log, lines } = recording();
    log.onReady(soft('a'));
    log.onReady(soft('a'));
    log.onReady(soft(null));
    log.onReady(soft('b'));
    expect(lines().map((l) => [l.msg, l['leader'] ?? null, l['term']])).toEqual([
      ['leader changed', 'a', 3],
      ['no leader known: an election is under way', null, 3],
      ['leader changed', 'b', 3],
    ]);
    expect(lines().every((l) => l.level === 30)).toBe(true);
  });

  it('logs a lost attempt with its ids and reason, and what becomes of the task', () => {
    const { log, lines } = recording();
    const base = { type: 'task', job: 'j1', task: 4, name: 'load', node: 'n2', attempt: 2, fence: 17 } as const;
    const effects: Effect[] = [
      { ...base, from: 'running', to: 'ready', reason: 'lease expired' },
      { ...base, from: 'running', to: 'failed', reason: 'holder restarted' },
      { ...base, from: 'running', to: 'succeeded', reason: null },
      { ...base, from: 'ready', to: 'running', reason: null },
      { type: 'ignored', command: 'heartbeat', reason: 'proposed by x, not by n2 for whom it speaks' },
      { type: 'ignored', command: 'claim', reason: 'task not ready' },
    ];
    for (const e of effects) log.onEffect(e);
    expect(lines().map((l) => l.msg)).toEqual([
      'task attempt lost (lease expired): it runs again',
      'task attempt lost (holder restarted): it is failed',
      'refused a command a member sent for another node',
    ]);
    expect(lines()[0]).toMatchObject({ job: 'j1', task: 'load', node: 'n2', attempt: 2, reason: 'lease expired', level: 30 });
    expect(lines()[2]?.level).toBe(40);
  });

  it('logs members connected and lost', () => {
    const { log, lines } = recording();
    log.onPeer('n3', true);
    log.onPeer('n3', false);
    expect(lines().map((l) => [l.msg, l['peer']])).toEqual([
      ['member connected', 'n3'],
      ['member connection lost', 'n3'],
    ]);
  });
});
