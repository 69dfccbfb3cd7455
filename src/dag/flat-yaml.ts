// The fastest reader of DAG files, for the shape machine-written files have (bench/dags.ts
// toYaml, issue 16): top-level `key: value` lines, then `tasks:` and one task per line as a flow
// mapping.
//
//   name: nightly
//   tasks:
//     extract: { handler: noop }
//     load: { run: "psql -f load.sql", deps: [extract, check], args: { ms: 10 } }
//
// js-yaml spent about 0.35 s of the 0.9 s of CPU `meshrun submit` took on a 50,000-task file;
// this reads it in a few tens of milliseconds. It takes only text whose every value it reads
// exactly as YAML 1.2's core schema does, and gives up (undefined) on anything else, which then
// goes to js-yaml and the document reader as before (parse.ts): no comments, tabs, CRs, quotes
// other than JSON-compatible double quotes, block collections below `tasks`, anchors, tags,
// repeated keys, or plain scalars that could read as anything but a string or a small integer.

/** Plain scalars the core schema reads as null or a boolean (others starting with a letter are strings). */
// `__proto__` too: as a key it would set an object's prototype here, where js-yaml makes it a property.
const NOT_STRINGS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', '__proto__']);
/** A plain scalar read as an integer: decimal, no sign, no leading zero, exact in a double. */
const PLAIN_INTEGER = /^(0|[1-9][0-9]{0,14})$/;

const NL = 0x0a;
const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A character of a plain token: A-Z a-z 0-9 _ . / - */
function isTokenChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2f || c === 0x2d
  );
}

/** A letter or _: what a token read as a string starts with (a digit, sign or dot could read as a number). */
function isStringStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

/** Thrown inside the reader when the text leaves the shape it reads; never escapes it. */
class NotFlat extends Error {}

/** The value of `text` when it has the flat shape above, exactly as js-yaml's core schema reads it; undefined otherwise. */
export function readFlatYaml(text: string): Record<string, unknown> | undefined {
  if (text.includes('#') || text.includes('\r') || text.includes('\t')) return undefined;
  try {
    return new FlatReader(text).document();
  } catch (err) {
    if (err instanceof NotFlat) return undefined;
    throw err;
  }
}

/** One pass over the text by character codes: no line splitting, no regular expression per line. */
class FlatReader {
  private i = 0;

  constructor(private readonly s: string) {}

  document(): Record<string, unknown> {
    const s = this.s;
    const top: Record<string, unknown> = {};
    let tasks: Record<string, unknown> | null = null;
    let indent = -1;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === NL) {
        this.i++;
        continue;
      }
      if (c === SPACE) {
        // A task line: only under `tasks:`, all at one indent, a flow mapping as its value.
        const start = this.i;
        while (s.charCodeAt(this.i) === SPACE) this.i++;
        if (tasks === null || (indent >= 0 && this.i - start !== indent)) throw new NotFlat();
        indent = this.i - start;
        const name = this.key(tasks);
        if (s.charCodeAt(this.i) !== 0x7b) throw new NotFlat();
        tasks[name] = this.mapping();
        this.lineEnd();
        continue;
      }
      const key = this.key(top, true);
      if (key === 'tasks' && (this.i >= s.length || s.charCodeAt(this.i) === NL)) {
        tasks = {};
        top[key] = tasks;
        indent = -1;
        continue;
      }
      // Any other key with no value reads as null, which no DAG wants: left to the other readers.
      tasks = null;
      top[key] = this.value();
      this.lineEnd();
    }
    // An empty `tasks:` reads as null in YAML: left to the other readers, which say so.
    const t = top['tasks'];
    if (t !== undefined && (t === null || (typeof t === 'object' && Object.keys(t).length === 0))) throw new NotFlat();
    return top;
  }

  /** `name: ` (or `name:` at the end of a line when `bare`), new in `into`; the name. */
  private key(into: Record<string, unknown>, bare = false): string {
    const name = this.token();
    if (!isStringStart(name.charCodeAt(0)) || NOT_STRINGS.has(name) || Object.hasOwn(into, name)) throw new NotFlat();
    if (this.s.charCodeAt(this.i) !== 0x3a) throw new NotFlat();
    this.i++;
    const next = this.s.charCodeAt(this.i);
    if (next === SPACE) this.i++;
    else if (!bare || !(next === NL || Number.isNaN(next))) throw new NotFlat();
    return name;
  }

  /** Trailing spaces, then the end of the line or of the text. */
  private lineEnd(): void {
    this.spaces();
    if (this.i < this.s.length && this.s.charCodeAt(this.i) !== NL) throw new NotFlat();
  }

  private spaces(): void {
    while (this.s.charCodeAt(this.i) === SPACE) this.i++;
  }

  private value(): unknown {
    this.spaces();
    const c = this.s.charCodeAt(this.i);
    if (c === 0x7b) return this.mapping();
    if (c === 0x5b) return this.sequence();
    if (c === QUOTE) return this.quoted();
    return this.plain();
  }

  private mapping(): Record<string, unknown> {
    this.i++;
    const out: Record<string, unknown> = {};
    this.spaces();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    for (;;) {
      this.spaces();
      // `key: value`: YAML needs the space after the colon of a plain key in a flow mapping.
      const key = this.key(out);
      out[key] = this.value();
      this.spaces();
      const next = this.s.charCodeAt(this.i++);
      if (next === 0x7d) return out;
      if (next !== 0x2c) throw new NotFlat();
    }
  }

  private sequence(): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.spaces();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.spaces();
      const next = this.s.charCodeAt(this.i++);
      if (next === 0x5d) return out;
      if (next !== 0x2c) throw new NotFlat();
    }
  }

  /** A double-quoted string on one line that JSON reads too: there JSON and YAML 1.2 agree on its value. */
  private quoted(): string {
    const start = this.i;
    let j = start + 1;
    for (;;) {
      const c = this.s.charCodeAt(j);
      if (Number.isNaN(c) || c === NL) throw new NotFlat();
      if (c === BACKSLASH) j += 2;
      else if (c === QUOTE) break;
      else j++;
    }
    this.i = j + 1;
    try {
      return JSON.parse(this.s.slice(start, this.i)) as string;
    } catch {
      throw new NotFlat();
    }
  }

  /** The characters A-Z a-z 0-9 _ . / - from here on. */
  private token(): string {
    const start = this.i;
    while (isTokenChar(this.s.charCodeAt(this.i))) this.i++;
    return this.s.slice(start, this.i);
  }

  /** A plain scalar ending at a flow indicator, a space or the line's end: a string or a small integer. */
  private plain(): string | number {
    const token = this.token();
    const end = this.s.charCodeAt(this.i);
    // Anything else right after it (`a:b`, `a'b`, `a&`) is left to the full readers.
    if (!(end === 0x2c || end === 0x5d || end === 0x7d || end === SPACE || end === NL || Number.isNaN(end))) throw new NotFlat();
    if (isStringStart(token.charCodeAt(0))) {
      if (NOT_STRINGS.has(token)) throw new NotFlat();
      return token;
    }
    if (PLAIN_INTEGER.test(token)) return Number(token);
    throw new NotFlat();
  }
}
