import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { authFlows } from '../db/schema';
import type { AuthFlowKind as FlowKind } from '../db/values';
import { hashToken, newId, randomToken } from '../lib/tokens';

/**
 * Short-lived, single-use server-side records behind sign-in flows (OAuth state, one-time exchange
 * codes, pending second factors, passkey challenges). The client holds a random handle; the table
 * keeps only its SHA-256. Consuming is one conditional UPDATE, so a handle works once.
 */

const FLOW_TTL_MS: Record<FlowKind, number> = {
  oauth: 10 * 60 * 1000,
  exchange: 2 * 60 * 1000,
  mfa: 5 * 60 * 1000,
  webauthn: 5 * 60 * 1000,
};

/** Prepares a flow: the handle for the client and the insert statement for the caller's batch. */
export async function prepareFlow(
  db: Database,
  kind: FlowKind,
  userId: string | null,
  data: Record<string, unknown>,
  now: Date,
  handle = randomToken(),
) {
  const id = await hashToken(handle);
  const expiresAt = new Date(now.getTime() + FLOW_TTL_MS[kind]);
  return {
    handle,
    expiresAt,
    statement: db.insert(authFlows).values({ id, kind, userId, data, createdAt: now, expiresAt }),
  };
}

/**
 * Marks the flow used, only if it is of `kind`, unused and unexpired, and returns it (empty when it
 * is not). `useId` names the consuming request, so later statements of the same batch can be
 * guarded on `flowConsumedBy`.
 */
export function consumeFlowStatement(db: Database, kind: FlowKind, flowId: string, now: Date, useId: string) {
  return db
    .update(authFlows)
    .set({ usedAt: now, usedBy: useId })
    .where(
      and(eq(authFlows.id, flowId), eq(authFlows.kind, kind), isNull(authFlows.usedAt), gt(authFlows.expiresAt, now)),
    )
    .returning({ userId: authFlows.userId, data: authFlows.data });
}

/** SQL true once the request `useId` has consumed the flow `flowId` in this batch. */
export function flowConsumedBy(flowId: string, useId: string) {
  return sql`EXISTS (SELECT 1 FROM ${authFlows} WHERE ${authFlows.id} = ${flowId} AND ${authFlows.usedBy} = ${useId})`;
}

/** The stored id of a flow handle. */
export const flowIdOf = (handle: string) => hashToken(handle);

/** A random id naming one request's writes, for guards between statements of its batch. */
export function newUseId(): string {
  return newId('use');
}

/** Purges flows that expired more than a day ago. */
export async function purgeExpiredFlows(db: Database, now: Date): Promise<number> {
  const rows = await db
    .delete(authFlows)
    .where(lt(authFlows.expiresAt, new Date(now.getTime() - 24 * 3600 * 1000)))
    .returning({ id: authFlows.id });
  return rows.length;
}
