// A fast path for DAG files in JSON. The YAML parser reads JSON too (and gives line:column
// errors and finds duplicate keys), but it is some 50 times slower than JSON.parse, which is
// felt with machine-written DAGs of 10,000 tasks and more. JSON.parse silently keeps the last of
// two equal keys, so a value is only taken from it when a scan finds no mapping with a repeated
// key; anything else (invalid JSON, duplicates) goes the YAML way, which explains the problem.

/** The value of `text` when it is valid JSON without repeated keys; undefined otherwise. */
export function parseStrictJson(text: string): unknown {
  const start = text.trimStart();
  if (!start.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return hasRepeatedKey(text) ? undefined : value;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** Scans text already known to be valid JSON: every string followed by ':' is a key of the innermost object. */
function hasRepeatedKey(json: string): boolean {
  // One Set per open object, null per open array.
  const stack: (Set<string> | null)[] = [];
  const n = json.length;
  let i = 0;
  while (i < n) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const d = json.charCodeAt(j);
        if (d === BACKSLASH) {
          escaped = true;
          j += 2;
        } else if (d === QUOTE) break;
        else j++;
      }
      const end = j + 1;
      let k = end;
      while (k < n && isSpace(json.charCodeAt(k))) k++;
      if (json.charCodeAt(k) === COLON) {
        const keys = stack[stack.length - 1];
        // Equal keys may be spelt differently ("a" and "\u0061"): compare them unescaped.
        const key = escaped ? (JSON.parse(json.slice(i, end)) as string) : json.slice(i + 1, j);
        if (keys) {
          if (keys.has(key)) return true;
          keys.add(key);
        }
      }
      i = end;
    } else {
      if (c === 0x7b) stack.push(new Set());
      else if (c === 0x5b) stack.push(null);
      else if (c === 0x7d || c === 0x5d) stack.pop();
      i++;
    }
  }
  return false;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
