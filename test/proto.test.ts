// The generated code in src/proto is committed (nothing needs generating to install, build or test);
// this checks that it is what protons writes from the .proto files beside it, so an edited schema
// whose code was not regenerated with `npm run proto` fails here rather than on the wire.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const protoDir = join(import.meta.dirname, '..', 'src', 'proto');
const protons = join(import.meta.dirname, '..', 'node_modules', 'protons', 'dist', 'bin', 'protons.js');

describe('src/proto', () => {
  it('holds exactly the code protons generates from its schemas', () => {
    const schemas = readdirSync(protoDir)
      .filter((f) => f.endsWith('.proto'))
      .sort();
    expect(schemas).toEqual(['envelope.proto', 'raft.proto', 'scheduler.proto']);
    const script = (
      JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts['proto'];
    expect(script).toBe(`protons ${schemas.map((s) => `src/proto/${s}`).join(' ')}`);
    const out = mkdtempSync(join(os.tmpdir(), 'meshrun-proto-'));
    try {
      execFileSync(process.execPath, [protons, ...schemas.map((s) => join(protoDir, s)), '--output', out], { stdio: 'pipe' });
      for (const s of schemas) {
        const ts = s.replace(/\.proto$/, '.ts');
        expect(readFileSync(join(protoDir, ts), 'utf8'), `${ts} differs from what protons generates: run npm run proto`).toBe(
          readFileSync(join(out, ts), 'utf8'),
        );
      }
      expect(
        readdirSync(protoDir)
          .filter((f) => f.endsWith('.ts'))
          .sort(),
      ).toEqual(schemas.map((s) => s.replace(/\.proto$/, '.ts')));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
