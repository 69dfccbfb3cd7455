// Marks dist/ as built from the sources as they are now; bin/meshrun runs dist/ only while no
// source file is newer than this stamp.
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/.build-stamp', import.meta.url), `${new Date().toISOString()}\n`);
