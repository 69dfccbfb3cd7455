// A bounded list of validation problems, each with the place it was found. Every problem is
// counted, but only the first MAX_REPORTED_PROBLEMS are kept: a 50,000-task file with one typo
// repeated everywhere should give a readable error, not a megabyte of text.
import { MAX_REPORTED_PROBLEMS, fmt } from './dag-limits.js';

export type PathKey = string | number;

export interface Problem {
  readonly path: readonly PathKey[];
  readonly message: string;
}

export class Problems {
  readonly list: Problem[] = [];
  private total = 0;

  /** Records a problem; returns false once no more will be kept, so costly searches may stop. */
  add(path: readonly PathKey[], message: string): boolean {
    this.total++;
    if (this.list.length < MAX_REPORTED_PROBLEMS) this.list.push({ path, message });
    return this.list.length < MAX_REPORTED_PROBLEMS;
  }

  /** Adds `other`'s problems after these, still keeping at most MAX_REPORTED_PROBLEMS. */
  addAll(other: Problems): void {
    for (const p of other.list) this.add(p.path, p.message);
    this.total += other.total - other.list.length;
  }

  get count(): number {
    return this.total;
  }

  /** The kept problems as text, and a last line counting those left out. */
  render(show: (p: Problem) => string = formatProblem): string[] {
    const out = this.list.map(show);
    const more = this.total - this.list.length;
    if (more > 0) out.push(`... and ${fmt(more)} more problem${more === 1 ? '' : 's'}`);
    return out;
  }
}

/** `tasks.transform.deps[0]`; keys that are not plain identifiers are quoted: `tasks["a b"]`. */
export function formatPath(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

export function formatProblem(p: Problem): string {
  return p.path.length === 0 ? p.message : `${formatPath(p.path)}: ${p.message}`;
}

/** A value as a message shows it: short, and with its JSON type visible. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- every object was handled above; what is left prints as itself
  return String(v);
}
