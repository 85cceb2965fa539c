/**
 * Structured logging: one JSON object per line, so Workers Logs can index the fields. Callers must
 * never pass tokens, passwords or request bodies.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export function logInfo(message: string, fields: LogFields = {}): void {
  console.log(JSON.stringify({ level: 'info', message, ...fields }));
}

export function logWarn(message: string, fields: LogFields = {}): void {
  console.warn(JSON.stringify({ level: 'warn', message, ...fields }));
}

export function logError(message: string, fields: LogFields = {}): void {
  console.error(JSON.stringify({ level: 'error', message, ...fields }));
}
