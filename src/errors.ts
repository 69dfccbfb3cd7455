// The text of a caught value, for messages and logs: an Error's message, anything else as a string.

/** `err.message` for an Error, `String(err)` for anything else thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
