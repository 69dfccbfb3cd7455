// "Did you mean" hints for typos in DAG files: a misspelt field (`dep:`) or dependency
// (`transfrom`). Only close candidates are offered, so a hint is rarely misleading. The graph
// check (dag-graph.ts) gives them for unknown deps, in the file reader's messages and in the
// state machine's rejection of a submit alike, so this stays beside the machine.
import { at } from '../invariant.js';

/** The candidate closest to `word` within a small edit distance, or null. */
export function closest(word: string, candidates: Iterable<string>): string | null {
  // Fewer edits than the word has characters: 'q' for 'a' would be a guess, not a hint.
  const budget = Math.min(2, Math.floor(word.length / 3) + 1, word.length - 1);
  let best: string | null = null;
  let bestDistance = budget + 1;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) >= bestDistance) continue;
    const d = editDistance(word, c, bestDistance);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance with transpositions counted as one edit; stops early at `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(prev, j, 'a column') + 1, at(cur, j - 1, 'a column') + 1, at(prev, j - 1, 'a column') + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(prev2, j - 2, 'a column') + 1);
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= cap) return cap;
    prev2 = prev;
    prev = cur;
  }
  return at(prev, b.length, 'a column');
}

/** `"did you mean 'deps'?"` suffix, or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === null ? '' : ` (did you mean '${c}'?)`;
}
