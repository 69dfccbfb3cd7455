// The replicated machine stays pure and small: src/scheduler imports nothing of the DAG file
// front end (src/dag: zod, YAML, durations as text) and no package of its own, only its own files
// and a few pure modules beside it (src/schedule/cadence.ts wraps the cron library, pure: docs/schedules.md §2).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '../../src/scheduler');
// The wire formats: the schema-generated code (src/proto), its glue and the small binary codec (src/codec);
// and the pure leaves beside them (error text, invariant reads).
const ALLOWED_OUTSIDE = new Set([
  '../raft/types.js',
  '../raft/codec.js',
  '../errors.js',
  '../invariant.js',
  '../codec/binary.js',
  '../codec/proto.js',
  '../proto/scheduler.js',
  '../schedule/cadence.js',
]);

describe('src/scheduler', () => {
  it('imports only its own files and a few pure modules (never src/dag, zod or yaml)', () => {
    const bad: string[] = [];
    for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(DIR, file), 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'/gm)) {
        const spec = m[1];
        if (spec === undefined) continue;
        if (/^\.\/[\w.-]+\.js$/.test(spec) || ALLOWED_OUTSIDE.has(spec)) continue;
        bad.push(`${file}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
