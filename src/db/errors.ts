/** Collects the messages of an error and its causes (drizzle wraps D1 errors). */
function messages(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) parts.push(e.message);
  return parts.join(' | ');
}

/**
 * True when a write failed on a UNIQUE constraint; with `name` (an index name or `table.column`),
 * only when that constraint is the one that failed.
 */
export function isUniqueViolation(err: unknown, name?: string): boolean {
  const text = messages(err);
  return text.includes('UNIQUE constraint failed') && (name === undefined || text.includes(name));
}

/** True when a statement failed with `text` in its message (a trigger's `RAISE(ABORT, text)`, a constraint). */
export function failedWith(err: unknown, text: string): boolean {
  return messages(err).includes(text);
}
