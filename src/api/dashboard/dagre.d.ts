// The page imports `./dagre.js`, which the server serves from @dagrejs/dagre's ES module build
// (src/api/dashboard.ts); this gives the type checker that module's own types. Never served.
export { default } from '@dagrejs/dagre';
