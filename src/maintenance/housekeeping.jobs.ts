import { purgeExpiredUserTokens } from '../accounts/accounts.service';
import { getConfig } from '../config';
import { createEmailSender } from '../email/email.sender';
import { deliverOutbox, purgeDeliveredOutbox } from '../email/outbox.service';
import { purgeExpiredIdempotencyKeys } from '../middleware/idempotency';
import { purgeDigestRows, queueMessageDigests } from '../messages/digest.service';
import { purgeExpiredTickets } from '../messages/realtime.service';
import { purgeExpiredFlows } from '../security/auth-flows';
import { purgeStaleRateLimits } from '../security/rate-limit';
import { purgeExpiredSessions } from '../sessions/sessions.service';
import { fetchWebhookSender } from '../webhooks/webhooks.sender';
import { deliverWebhooks, purgeOldDeliveries } from '../webhooks/webhooks.service';
import { purgeDeletedAccounts } from '../privacy/privacy.service';
import type { Job } from './job';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Every 5 minutes: deliver pending email. */
export const deliverEmailJob: Job = async ({ db, env, now }) => {
  const config = getConfig(env);
  const report = await deliverOutbox(db, createEmailSender(env, config.isProduction), config.emailFrom, now);
  return { ...report };
};

/** Every 5 minutes: deliver due webhooks (signed, with backoff; failing endpoints get disabled). */
export const deliverWebhooksJob: Job = async ({ db, now }) => ({
  ...(await deliverWebhooks(db, fetchWebhookSender, now)),
});
/** Every 5 minutes, before delivery: queue unread-message digests (at most one per member per period). */
export const messageDigestJob: Job = async ({ db, env, now }) => {
  const config = getConfig(env);
  return queueMessageDigests(db, config.messaging, config.appUrl, now);
};

/** Daily: purge what can no longer be used. Each delete is bounded by its index on the time column. */
export const purgeJob: Job = async ({ db, now }) => ({
  userTokens: await purgeExpiredUserTokens(db, now),
  sessions: await purgeExpiredSessions(db, new Date(now.getTime() - 7 * DAY_MS)),
  rateLimits: await purgeStaleRateLimits(db, now),
  authFlows: await purgeExpiredFlows(db, now),
  outbox: await purgeDeliveredOutbox(db, new Date(now.getTime() - 30 * DAY_MS)),
  idempotencyKeys: await purgeExpiredIdempotencyKeys(db, now),
  webhookDeliveries: await purgeOldDeliveries(db, new Date(now.getTime() - 30 * DAY_MS)),
  deletedAccounts: await purgeDeletedAccounts(db, now),
  realtimeTickets: await purgeExpiredTickets(db, now),
  messageDigests: await purgeDigestRows(db, new Date(now.getTime() - 30 * DAY_MS)),
});
