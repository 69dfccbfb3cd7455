import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The checkout's root (the folder holding package.json), found from this module's place: the
 * same code runs from src/ under tsx and from dist/src/ once built, one folder deeper.
 */
function findPackageRoot(from: string): string {
  for (let dir = from, steps = 0; steps < 8; dir = dirname(dir), steps++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'meshrun'))) return dir;
  }
  throw new Error(`meshrun: no package.json with bin/meshrun above ${from}`);
}

export const PACKAGE_ROOT = findPackageRoot(import.meta.dirname);
