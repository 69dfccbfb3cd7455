import { afterEach, describe, expect, it } from 'vitest';
import { LogsServer, NOT_A_MEMBER_ERROR, requestLog, type LogRequest } from '../../src/net/logs.js';
import { parseMultiaddr } from '../../src/net/addresses.js';
import { Cleanup, addrOf } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const req: LogRequest = { job: 'j-1', task: 'build', attempt: 1 };
const secret = new TextEncoder().encode('AWS_SECRET=hunter2\n');

describe('logs protocol', () => {
  it('answers members, refuses everyone else before reading the request, and counts them', async () => {
    const server = await cleanup.host();
    const member = await cleanup.host();
    const outsider = await cleanup.host();
    const members = new Set([member.peerId.toString()]);
    const asked: LogRequest[] = [];
    const logs = new LogsServer(server, {
      read: async (r) => {
        asked.push(r);
        return { ok: true, data: secret, size: secret.length, truncated: false };
      },
      isMember: (id) => members.has(id),
    });
    await logs.start();
    cleanup.add(() => logs.stop());
    const target = parseMultiaddr(addrOf(server));

    expect(await requestLog(outsider, target, req, { timeoutMs: 3_000 })).toEqual({ ok: false, missing: false, error: NOT_A_MEMBER_ERROR });
    expect(logs.stats).toEqual({ answered: 0, refusedNotMember: 1 });
    expect(asked).toEqual([]);

    const answer = await requestLog(member, target, req, { timeoutMs: 3_000 });
    expect(answer).toMatchObject({ ok: true, size: secret.length, truncated: false });
    expect(answer.ok && Buffer.from(answer.data).equals(Buffer.from(secret))).toBe(true);
    expect(logs.stats).toEqual({ answered: 1, refusedNotMember: 1 });

    // Membership is asked per stream: a removed member is refused from then on.
    members.delete(member.peerId.toString());
    expect(await requestLog(member, target, req, { timeoutMs: 3_000 })).toMatchObject({ ok: false, error: NOT_A_MEMBER_ERROR });
    expect(logs.stats.refusedNotMember).toBe(2);
    expect(asked).toEqual([req]);
  });
});
