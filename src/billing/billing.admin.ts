import { and, count, desc, eq, gte, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { ledger, memberships, tiers, users } from '../db/schema';
import { AppError } from '../errors';
import { newId } from '../lib/tokens';
import { auditStatement, type AuditActor } from '../security/audit';
import { getMembership, viaGateway } from './billing.service';
import { membershipEventData, syncSubscriptionStatements, type BillingDeps } from './billing.webhooks';
import { webhookEventStatement } from '../webhooks/webhooks.outbox';
import { ACCESS_GRANTING_STATUSES } from './membership';

/** Complimentary memberships carry a synthetic subscription id with this prefix (never sent to the gateway). */
const COMP_PREFIX = 'comp_';

const isComp = (subscriptionId: string) => subscriptionId.startsWith(COMP_PREFIX);

const granting = inArray(memberships.status, [...ACCESS_GRANTING_STATUSES]);
const paidSubscription = sql`${memberships.gatewaySubscriptionId} NOT LIKE 'comp\\_%' ESCAPE '\\'`;

const membershipSnapshot = sql`json_object('tierId', ${memberships.tierId}, 'status', ${memberships.status}, 'currentPeriodEnd', ${memberships.currentPeriodEnd}, 'subscription', ${memberships.gatewaySubscriptionId})`;

async function liveUser(deps: Pick<BillingDeps, 'db'>, userId: string) {
  const [found] = await deps.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)));
  if (!found) throw AppError.notFound('user');
}

/**
 * Grants (or extends) a complimentary membership on `tierId` until `until`: status active, no payment,
 * ends at `until` (the billing cron expires it then, plus the grace). A member paying through the
 * gateway is refused (409: cancel that first) — guarded in SQL, not only read first.
 */
export async function compMembership(
  deps: Pick<BillingDeps, 'db'>,
  actor: AuditActor,
  userId: string,
  input: { tierId: string; until: Date },
  now: Date,
) {
  const { db } = deps;
  if (input.until.getTime() <= now.getTime()) throw AppError.validation({ until: ['must be in the future'] });
  await liveUser(deps, userId);
  const [tier] = await db.select({ id: tiers.id }).from(tiers).where(eq(tiers.id, input.tierId));
  if (!tier) throw AppError.validation({ tierId: ['is not a tier'] });
  const guard = and(
    eq(users.id, userId),
    isNull(users.deletedAt),
    sql`NOT EXISTS (SELECT 1 FROM ${memberships} WHERE ${memberships.userId} = ${userId} AND ${granting} AND ${paidSubscription})`,
  )!;
  const subscriptionId = newId('comp');
  const stateAt = Date.now();
  const t = now.getTime();
  const until = input.until.getTime();
  const [, inserted] = await db.batch([
    auditStatement(
      db,
      actor,
      {
        action: 'membership.comp',
        targetType: 'user',
        targetId: userId,
        from: users,
        where: guard,
        before: sql`(SELECT ${membershipSnapshot} FROM ${memberships} WHERE ${memberships.userId} = ${userId})`,
        after: { tierId: input.tierId, status: 'active', currentPeriodEnd: until },
      },
      now,
    ),
    db
      .insert(memberships)
      .select(
        sql`SELECT ${userId}, ${input.tierId}, 'active', 'month', ${until}, 1, ${subscriptionId}, ${stateAt}, ${t}
          FROM ${users} WHERE ${guard}`,
      )
      .onConflictDoUpdate({
        target: memberships.userId,
        set: {
          tierId: input.tierId,
          status: 'active',
          interval: 'month',
          currentPeriodEnd: input.until,
          cancelAtPeriodEnd: true,
          gatewaySubscriptionId: subscriptionId,
          gatewayStateAt: stateAt,
          updatedAt: now,
        },
      })
      .returning({ userId: memberships.userId }),
    webhookEventStatement(
      db,
      'membership.updated',
      membershipEventData(userId, sql`mm.gateway_subscription_id = ${subscriptionId}`),
      now,
    ),
  ]);
  if (!inserted[0]) throw AppError.conflict({ membership: ['is paid through the gateway; cancel it first'] });
  return (await getMembership(deps, userId))!;
}

/**
 * Ends a member's membership now. A paid one is cancelled at the gateway (immediately) and the
 * membership re-read from it; a complimentary one is ended locally. Audited in the batch that
 * changes the membership. No access-granting membership: 404.
 */
export async function cancelMemberMembership(deps: BillingDeps, actor: AuditActor, userId: string, now: Date) {
  const { db } = deps;
  const [membership] = await db
    .select()
    .from(memberships)
    .where(and(eq(memberships.userId, userId), granting));
  if (!membership) throw AppError.notFound('membership');
  const subscriptionId = membership.gatewaySubscriptionId;
  const guard = and(eq(memberships.userId, userId), eq(memberships.gatewaySubscriptionId, subscriptionId), granting)!;
  const audit = auditStatement(
    db,
    actor,
    {
      action: 'membership.cancel',
      targetType: 'user',
      targetId: userId,
      from: memberships,
      where: guard,
      before: membershipSnapshot,
      after: { status: 'canceled' },
    },
    now,
  );
  if (isComp(subscriptionId)) {
    const stateAt = Date.now();
    await db.batch([
      audit,
      db
        .update(memberships)
        .set({
          status: 'canceled',
          currentPeriodEnd: now,
          cancelAtPeriodEnd: false,
          gatewayStateAt: stateAt,
          updatedAt: now,
        })
        .where(guard),
      webhookEventStatement(
        db,
        'membership.updated',
        membershipEventData(userId, sql`mm.gateway_state_at = ${stateAt} AND mm.status = 'canceled'`),
        now,
      ),
    ]);
  } else {
    await viaGateway('subscriptions.cancel', () => deps.gateway.subscriptions.cancel(subscriptionId));
    const statements = await viaGateway('subscriptions.retrieve', () =>
      syncSubscriptionStatements(deps, subscriptionId, now),
    );
    await db.batch([audit, ...statements]);
  }
  return (await getMembership(deps, userId))!;
}

// ---------------------------------------------------------------------------------------------
// Revenue (read:revenue): one round trip.

/** Month (`YYYY-MM`, UTC) of a ledger row. */
const month = sql<string>`strftime('%Y-%m', ${ledger.createdAt} / 1000, 'unixepoch')`;
const sumWhen = (condition: SQL) =>
  sql<number>`coalesce(sum(CASE WHEN ${condition} THEN ${ledger.amount} END), 0)`.mapWith(Number);

/** Monthly recurring revenue of one membership row: the yearly price counts a twelfth per month. */
const monthlyValue = sql`CASE WHEN ${memberships.interval} = 'year' THEN ${tiers.yearlyPrice} / 12.0 ELSE ${tiers.monthlyPrice} END`;

/**
 * Ledger totals per month and currency since the start of the month `months - 1` months ago (seeks
 * ledger_created_at_idx), MRR per currency from paid memberships in good standing (`active`,
 * `past_due`; complimentary ones bring no revenue), and members with access per tier.
 */
export async function revenueReport(deps: Pick<BillingDeps, 'db'>, months: number, now: Date) {
  const { db } = deps;
  const since = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (months - 1), 1);
  const [byMonth, mrr, perTier] = await db.batch([
    db
      .select({
        month: month.as('month'),
        currency: ledger.currency,
        payments: sumWhen(sql`${ledger.kind} <> 'refund'`).as('payments'),
        refunds: sumWhen(sql`${ledger.kind} = 'refund'`).as('refunds'),
        memberships: sumWhen(sql`${ledger.kind} = 'membership'`).as('memberships'),
        tips: sumWhen(sql`${ledger.kind} = 'tip'`).as('tips'),
        articleSales: sumWhen(sql`${ledger.kind} = 'article'`).as('article_sales'),
        fees: sql<number>`coalesce(sum(${ledger.fee}), 0)`.mapWith(Number).as('fees'),
        net: sql<number>`coalesce(sum(${ledger.amount}), 0)`.mapWith(Number).as('net'),
      })
      .from(ledger)
      .where(gte(ledger.createdAt, new Date(since)))
      .groupBy(month, ledger.currency)
      .orderBy(desc(month), ledger.currency),
    db
      .select({
        currency: tiers.currency,
        mrr: sql<number>`coalesce(sum(${monthlyValue}), 0)`.mapWith(Number),
        payingMembers: count(),
      })
      .from(memberships)
      .innerJoin(tiers, eq(tiers.id, memberships.tierId))
      .where(and(inArray(memberships.status, ['active', 'past_due']), paidSubscription))
      .groupBy(tiers.currency)
      .orderBy(tiers.currency),
    db
      .select({
        tierId: tiers.id,
        name: tiers.name,
        members: count(),
        complimentary: sql<number>`count(CASE WHEN NOT (${paidSubscription}) THEN 1 END)`.mapWith(Number),
      })
      .from(memberships)
      .innerJoin(tiers, eq(tiers.id, memberships.tierId))
      .where(granting)
      .groupBy(tiers.id)
      .orderBy(tiers.id),
  ]);
  return {
    since: new Date(since),
    months: byMonth,
    mrr: mrr.map((r) => ({ ...r, mrr: Math.round(r.mrr) })),
    tiers: perTier,
  };
}

/**
 * Account deletion, before its batch: the member's paid subscription is cancelled at the gateway at
 * once (so nobody is charged for a deleted account). A subscription the gateway no longer knows or
 * has already cancelled is fine; any other gateway failure stops the deletion (502, nothing deleted).
 */
export async function cancelSubscriptionForDeletion(deps: BillingDeps, userId: string): Promise<void> {
  const [membership] = await deps.db
    .select({ subscriptionId: memberships.gatewaySubscriptionId, status: memberships.status })
    .from(memberships)
    .where(eq(memberships.userId, userId));
  if (!membership || isComp(membership.subscriptionId) || membership.status === 'canceled') return;
  await viaGateway('subscriptions.cancel', async () => {
    try {
      await deps.gateway.subscriptions.cancel(membership.subscriptionId);
    } catch (err) {
      const e = err as { code?: string; type?: string; message?: string };
      if (e.code === 'resource_missing') return;
      if (e.type === 'StripeInvalidRequestError' && /already been canceled/.test(e.message ?? '')) return;
      throw err;
    }
  });
}
