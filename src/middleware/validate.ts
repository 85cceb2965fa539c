import type { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError, type ErrorFields } from '../errors';
import { BLANK } from '../lib/validation';

type HookResult = { success: true } | { success: false; error: z.ZodError };

/** Turns zod issues into the RealWorld error shape, keyed by the innermost field name. */
function toErrorFields(error: z.ZodError): ErrorFields {
  const fields: ErrorFields = {};
  for (const issue of error.issues) {
    const key = [...issue.path].reverse().find((p) => typeof p === 'string') ?? 'body';
    const missing = issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined;
    const message = missing ? BLANK : issue.message;
    const list = (fields[key] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return fields;
}

/**
 * The one validation hook: every route's zod failure becomes a 422 in the contract's shape
 * (without it, the validator would answer 400 with raw zod output).
 */
export function validationHook(result: HookResult, _c: Context): void {
  if (!result.success) throw AppError.validation(toErrorFields(result.error));
}
