import { jobBillingDeps } from '../billing/billing.deps';
import { reconcileBilling } from '../billing/billing.service';
import type { Job } from './job';

/**
 * Every 5 minutes: checkouts left open past their expiry are settled from the gateway, and
 * memberships past their period end plus the grace (an event lost) are re-synced or expired.
 */
export const reconcileBillingJob: Job = async ({ db, env, now }) =>
  reconcileBilling(await jobBillingDeps(db, env), now);
