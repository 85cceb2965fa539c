import { sql } from 'drizzle-orm';
import { users } from '../db/schema';
import type { Bindable } from '../db/compiled';

/*
 * How every feature finds a user by email or username: case-insensitively, with the same
 * lower(...) expressions as the unique indexes users_email_lower_unique and
 * users_username_lower_unique, so each lookup is an index seek.
 */

export const emailMatches = (email: string) => sql`lower(${users.email}) = lower(${email})`;

export const usernameMatches = (username: Bindable<string>) => sql`lower(${users.username}) = lower(${username})`;

/**
 * The role of an account being inserted: on a fresh database the first account is the admin. Decided
 * inside the INSERT (SQLite runs one write at a time), so two first sign-ups racing cannot both be
 * admin. Every path that creates an account uses it (registration, social sign-in).
 */
export const newAccountRole = sql<
  'admin' | 'member'
>`(CASE WHEN EXISTS (SELECT 1 FROM ${users}) THEN 'member' ELSE 'admin' END)`;

/** The id of the user with this username, as a scalar subquery (NULL when there is none). */
export const userIdByUsername = (username: Bindable<string>) =>
  sql`(SELECT ${users.id} FROM ${users} WHERE ${usernameMatches(username)})`;
