import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { users } from '../db/schema';

/**
 * Whether the user is one of the publication's admins (who refund payments and manage tiers). The one
 * place this is decided: for now the usernames listed in the `ADMIN_USERNAMES` var; roles (issue 11)
 * replace the body of this function.
 */
export async function isPublicationAdmin(db: Database, userId: string, adminUsernames: string[]): Promise<boolean> {
  if (adminUsernames.length === 0) return false;
  const [row] = await db.select({ username: users.username }).from(users).where(eq(users.id, userId)).limit(1);
  return row !== undefined && adminUsernames.includes(row.username.toLowerCase());
}
