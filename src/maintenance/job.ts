import type { Database } from '../db/client';

/** What every scheduled job receives: `now` is the cron's scheduled time, never the wall clock. */
export interface JobContext {
  db: Database;
  env: Env;
  now: Date;
}

export type Job = (ctx: JobContext) => Promise<Record<string, number>>;
