import type { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AppError, type ErrorFields } from '../errors';
import { BLANK } from '../lib/validation';

type HookResult = ({ success: true } | { success: false; error: z.ZodError }) & { data?: unknown };

/** The value at `path` in what was validated (zod 4 issues do not carry it). */
function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * A missing or null field is "can't be blank"; a present value of the wrong type keeps its schema's
 * message, with zod's default wording ("Invalid input: expected array, received string") shortened to
 * the contract's style ("must be an array").
 */
function messageFor(issue: z.core.$ZodIssue, data: unknown): string {
  if (issue.code !== 'invalid_type') return issue.message;
  const value = valueAt(data, issue.path);
  if (value === undefined || value === null) return BLANK;
  const expected = /^Invalid input: expected (\w+)/.exec(issue.message)?.[1];
  if (!expected) return issue.message;
  return `must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`;
}

/** Turns zod issues into the RealWorld error shape, keyed by the innermost field name. */
function toErrorFields(error: z.ZodError, data: unknown): ErrorFields {
  const fields: ErrorFields = {};
  for (const issue of error.issues) {
    const key = [...issue.path].reverse().find((p) => typeof p === 'string') ?? 'body';
    const message = messageFor(issue, data);
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
  if (!result.success) throw AppError.validation(toErrorFields(result.error, result.data));
}
