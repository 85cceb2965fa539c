import { createDb } from '../db/client';
import { logError, logInfo } from '../lib/log';
import { optimizeJob, publishScheduledJob, reconcileCountersJob } from './content.jobs';
import { deliverEmailJob, deliverWebhooksJob, messageDigestJob, purgeJob } from './housekeeping.jobs';
import { reconcileBillingJob } from './billing.jobs';
import type { Job, JobContext } from './job';

/** Cron expression (as in wrangler.toml [triggers]) → jobs it runs, in order. */
export const CRON_JOBS: Record<string, Record<string, Job>> = {
  '*/5 * * * *': {
    publishScheduled: publishScheduledJob,
    messageDigest: messageDigestJob,
    reconcileBilling: reconcileBillingJob,
    deliverEmail: deliverEmailJob,
    deliverWebhooks: deliverWebhooksJob,
  },
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
