import { purgeExpiredUserTokens } from '../accounts/accounts.service';
import { getConfig } from '../config';
import { createDb, type Database } from '../db/client';
import { createEmailSender } from '../email/email.sender';
import { deliverOutbox, purgeDeliveredOutbox } from '../email/outbox.service';
import type { Env } from '../env';
import { logError, logInfo } from '../lib/log';
import { purgeStaleRateLimits } from '../security/rate-limit';
import { purgeExpiredSessions } from '../sessions/sessions.service';
import { optimizeJob, publishScheduledJob, reconcileCountersJob } from './content.jobs';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface JobContext {
  db: Database;
  env: Env;
  now: Date;
}

export type Job = (ctx: JobContext) => Promise<Record<string, number>>;

/** Every 5 minutes: deliver pending email. */
export const deliverEmailJob: Job = async ({ db, env, now }) => {
  const config = getConfig(env);
  const report = await deliverOutbox(db, createEmailSender(env, config.isProduction), config.emailFrom, now);
  return { ...report };
};

/** Daily: purge what can no longer be used. Each delete is bounded by its index on the time column. */
export const purgeJob: Job = async ({ db, now }) => ({
  userTokens: await purgeExpiredUserTokens(db, now),
  sessions: await purgeExpiredSessions(db, new Date(now.getTime() - 7 * DAY_MS)),
  rateLimits: await purgeStaleRateLimits(db, now),
  outbox: await purgeDeliveredOutbox(db, new Date(now.getTime() - 30 * DAY_MS)),
});

/** Cron expression (as in wrangler.toml [triggers]) → jobs it runs, in order. */
export const CRON_JOBS: Record<string, Record<string, Job>> = {
  '*/5 * * * *': { publishScheduled: publishScheduledJob, deliverEmail: deliverEmailJob },
  '17 3 * * *': { purge: purgeJob, reconcileCounters: reconcileCountersJob, optimize: optimizeJob },
};

export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const jobs = CRON_JOBS[controller.cron];
  if (!jobs) {
    logError('no jobs for cron', { cron: controller.cron });
    return;
  }
  const ctx: JobContext = { db: createDb(env.DB), env, now: new Date(controller.scheduledTime) };
  for (const [name, job] of Object.entries(jobs)) {
    const started = Date.now();
    try {
      const result = await job(ctx);
      logInfo('job finished', { job: name, cron: controller.cron, durationMs: Date.now() - started, ...result });
    } catch (err) {
      // One failing job must not stop the others; the next run retries.
      logError('job failed', {
        job: name,
        cron: controller.cron,
        error: err instanceof Error ? err.message.slice(0, 300) : 'unknown',
      });
    }
  }
}
