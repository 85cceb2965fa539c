import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client';
import {
  articles,
  checkouts,
  commentReports,
  comments,
  conversationParticipants,
  conversations,
  favorites,
  follows,
  authFlows,
  gatewayCustomers,
  identities,
  ledger,
  loginLockouts,
  media,
  memberships,
  messages,
  mfaRecoveryCodes,
  mfaTotp,
  passkeys,
  purchases,
  sessions,
  tiers,
  users,
  userTokens,
} from '../db/schema';
import { AppError } from '../errors';
import { verifyPassword } from '../lib/password';
import { randomToken } from '../lib/tokens';
import { assertWithinLimit, consumeLimit, hitStatement, type WindowLimit } from '../security/rate-limit';

/** One export a day per member. */
const EXPORT_LIMIT: WindowLimit = { limit: 1, windowSeconds: 24 * 3600 };
/** Password attempts for account deletion. */
const DELETE_ATTEMPT_LIMIT: WindowLimit = { limit: 5, windowSeconds: 3600 };
/** How long an anonymised account's row is kept before the daily job hard-deletes it. */
export const DELETED_RETENTION_MS = 30 * 24 * 3600 * 1000;
const PAGE = 500;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Reads every row of one query in keyset pages of PAGE rows (bounded memory and rows per query, within
 * Workers' limits), `page(after)` returning the rows after the given key in key order.
 */
async function paged<T, K>(page: (after: K | null) => Promise<T[]>, keyOf: (row: T) => K): Promise<T[]> {
  const all: T[] = [];
  let after: K | null = null;
  for (;;) {
    const rows = await page(after);
    all.push(...rows);
    if (rows.length < PAGE) return all;
    after = keyOf(rows[rows.length - 1]!);
  }
}

/**
 * One section of the data export: a name and how to read the member's data for it. Features that keep
 * member data add their section here.
 */
interface ExportSection {
  name: string;
  read(db: Database, userId: string): Promise<unknown>;
}

const EXPORT_SECTIONS: ExportSection[] = [
  {
    name: 'profile',
    async read(db, userId) {
      const [u] = await db.select().from(users).where(eq(users.id, userId));
      if (!u) throw AppError.unauthorized();
      return {
        id: u.id,
        username: u.username,
        email: u.email,
        bio: u.bio,
        image: u.image,
        role: u.role,
        emailVerifiedAt: iso(u.emailVerifiedAt),
        createdAt: iso(u.createdAt),
        updatedAt: iso(u.updatedAt),
        ban: u.bannedAt ? { at: iso(u.bannedAt), until: iso(u.bannedUntil), reason: u.banReason } : null,
      };
    },
  },
  {
    name: 'articles',
    read: (db, userId) =>
      paged(
        (after: number | null) =>
          db
            .select({
              id: articles.id,
              slug: articles.slug,
              title: articles.title,
              description: articles.description,
              body: articles.body,
              status: articles.status,
              visibility: articles.visibility,
              tagList: articles.tagList,
              publishAt: articles.publishAt,
              publishedAt: articles.publishedAt,
              createdAt: articles.createdAt,
              updatedAt: articles.updatedAt,
            })
            .from(articles)
            .where(and(eq(articles.authorId, userId), after === null ? undefined : gt(articles.id, after)))
            .orderBy(asc(articles.id))
            .limit(PAGE),
        (r) => r.id,
      ).then((rows) =>
        rows.map((r) => ({
          ...r,
          publishAt: iso(r.publishAt),
          publishedAt: iso(r.publishedAt),
          createdAt: iso(r.createdAt),
          updatedAt: iso(r.updatedAt),
        })),
      ),
  },
  {
    name: 'comments',
    read: (db, userId) =>
      paged(
        (after: number | null) =>
          db
            .select({
              id: comments.id,
              article: articles.slug,
              body: comments.body,
              hiddenAt: comments.hiddenAt,
              createdAt: comments.createdAt,
            })
            .from(comments)
            .innerJoin(articles, eq(articles.id, comments.articleId))
            .where(and(eq(comments.authorId, userId), after === null ? undefined : gt(comments.id, after)))
            .orderBy(asc(comments.id))
            .limit(PAGE),
        (r) => r.id,
      ).then((rows) => rows.map((r) => ({ ...r, hiddenAt: iso(r.hiddenAt), createdAt: iso(r.createdAt) }))),
  },
  {
    name: 'favorites',
    read: (db, userId) =>
      paged(
        (after: number | null) =>
          db
            .select({
              articleId: favorites.articleId,
              article: articles.slug,
              title: articles.title,
              createdAt: favorites.createdAt,
            })
            .from(favorites)
            .innerJoin(articles, eq(articles.id, favorites.articleId))
            .where(and(eq(favorites.userId, userId), after === null ? undefined : gt(favorites.articleId, after)))
            .orderBy(asc(favorites.articleId))
            .limit(PAGE),
        (r) => r.articleId,
      ).then((rows) => rows.map(({ article, title, createdAt }) => ({ article, title, createdAt: iso(createdAt) }))),
  },
  {
    name: 'following',
    read: (db, userId) =>
      paged(
        (after: string | null) =>
          db
            .select({ id: follows.followeeId, username: users.username, createdAt: follows.createdAt })
            .from(follows)
            .innerJoin(users, eq(users.id, follows.followeeId))
            .where(and(eq(follows.followerId, userId), after === null ? undefined : gt(follows.followeeId, after)))
            .orderBy(asc(follows.followeeId))
            .limit(PAGE),
        (r) => r.id,
      ).then((rows) => rows.map((r) => ({ username: r.username, since: iso(r.createdAt) }))),
  },
  {
    name: 'followers',
    read: (db, userId) =>
      paged(
        (after: string | null) =>
          db
            .select({ id: follows.followerId, username: users.username, createdAt: follows.createdAt })
            .from(follows)
            .innerJoin(users, eq(users.id, follows.followerId))
            .where(and(eq(follows.followeeId, userId), after === null ? undefined : gt(follows.followerId, after)))
            .orderBy(asc(follows.followerId))
            .limit(PAGE),
        (r) => r.id,
      ).then((rows) => rows.map((r) => ({ username: r.username, since: iso(r.createdAt) }))),
  },
  {
    // How the member signs in, without any secret: linked identities, passkeys, whether 2FA is on.
    name: 'signInMethods',
    async read(db, userId) {
      const [linked, keys, totp, codes] = await db.batch([
        db
          .select({
            id: identities.id,
            provider: identities.provider,
            email: identities.email,
            createdAt: identities.createdAt,
            lastUsedAt: identities.lastUsedAt,
          })
          .from(identities)
          .where(eq(identities.userId, userId)),
        db
          .select({
            id: passkeys.id,
            name: passkeys.name,
            createdAt: passkeys.createdAt,
            lastUsedAt: passkeys.lastUsedAt,
          })
          .from(passkeys)
          .where(eq(passkeys.userId, userId)),
        db.select({ enabledAt: mfaTotp.enabledAt }).from(mfaTotp).where(eq(mfaTotp.userId, userId)),
        db
          .select({ left: sql<number>`count(*)` })
          .from(mfaRecoveryCodes)
          .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt))),
      ]);
      return {
        identities: linked.map((i) => ({ ...i, createdAt: iso(i.createdAt), lastUsedAt: iso(i.lastUsedAt) })),
        passkeys: keys.map((k) => ({ ...k, createdAt: iso(k.createdAt), lastUsedAt: iso(k.lastUsedAt) })),
        twoFactor: { enabled: Boolean(totp[0]?.enabledAt), enabledAt: iso(totp[0]?.enabledAt ?? null) },
        recoveryCodesLeft: Number(codes[0]?.left ?? 0),
      };
    },
  },
  {
    name: 'sessions',
    read: (db, userId) =>
      paged(
        (after: string | null) =>
          db
            .select()
            .from(sessions)
            .where(and(eq(sessions.userId, userId), after === null ? undefined : gt(sessions.id, after)))
            .orderBy(asc(sessions.id))
            .limit(PAGE),
        (r) => r.id,
      ).then((rows) =>
        rows.map((s) => ({
          id: s.id,
          createdAt: iso(s.createdAt),
          lastSeenAt: iso(s.lastSeenAt),
          expiresAt: iso(s.expiresAt),
          revokedAt: iso(s.revokedAt),
          userAgent: s.userAgent,
          country: s.country,
        })),
      ),
  },
  {
    name: 'media',
    read: (db, userId) =>
      paged(
        (after: string | null) =>
          db
            .select()
            .from(media)
            .where(and(eq(media.ownerId, userId), after === null ? undefined : gt(media.id, after)))
            .orderBy(asc(media.id))
            .limit(PAGE),
        (r) => r.id,
      ).then((rows) =>
        rows.map((m) => ({
          id: m.id,
          path: `/media/${m.key}`,
          contentType: m.contentType,
          size: m.size,
          createdAt: iso(m.createdAt),
        })),
      ),
  },
  {
    name: 'commentReports',
    read: (db, userId) =>
      paged(
        (after: number | null) =>
          db
            .select({
              id: commentReports.id,
              commentId: commentReports.commentId,
              reason: commentReports.reason,
              status: commentReports.status,
              createdAt: commentReports.createdAt,
            })
            .from(commentReports)
            .where(
              and(eq(commentReports.reporterId, userId), after === null ? undefined : gt(commentReports.id, after)),
            )
            .orderBy(asc(commentReports.id))
            .limit(PAGE),
        (r) => r.id,
      ).then((rows) => rows.map((r) => ({ ...r, createdAt: iso(r.createdAt) }))),
  },
  {
    name: 'membership',
    async read(db, userId) {
      const [m] = await db
        .select({
          tierId: memberships.tierId,
          tier: tiers.name,
          status: memberships.status,
          interval: memberships.interval,
          currentPeriodEnd: memberships.currentPeriodEnd,
          cancelAtPeriodEnd: memberships.cancelAtPeriodEnd,
          complimentary: sql<number>`substr(${memberships.gatewaySubscriptionId}, 1, 5) = 'comp_'`,
          updatedAt: memberships.updatedAt,
        })
        .from(memberships)
        .innerJoin(tiers, eq(tiers.id, memberships.tierId))
        .where(eq(memberships.userId, userId));
      return m
        ? {
            ...m,
            complimentary: Boolean(m.complimentary),
            currentPeriodEnd: iso(m.currentPeriodEnd),
            updatedAt: iso(m.updatedAt),
          }
        : null;
    },
  },
  {
    name: 'payments',
    read: (db, userId) =>
      paged(
        (after: string | null) =>
          db
            .select({
              id: ledger.id,
              kind: ledger.kind,
              amount: ledger.amount,
              currency: ledger.currency,
              tierId: ledger.tierId,
              article: articles.slug,
              refundOf: ledger.refundOf,
              createdAt: ledger.createdAt,
            })
            .from(ledger)
            .leftJoin(articles, eq(articles.id, ledger.articleId))
            .where(and(eq(ledger.userId, userId), after === null ? undefined : gt(ledger.id, after)))
            .orderBy(asc(ledger.id))
            .limit(PAGE),
        (r) => r.id,
      ).then((rows) => rows.map((r) => ({ ...r, createdAt: iso(r.createdAt) }))),
  },
  {
    // The member's side of each conversation only: no other member's messages or read state.
    name: 'conversations',
    read: (db, userId) =>
      paged(
        (after: string | null) =>
          db
            .select({
              id: conversations.id,
              kind: conversations.kind,
              title: conversations.title,
              joinedAt: conversationParticipants.joinedAt,
              leftAt: conversationParticipants.leftAt,
            })
            .from(conversationParticipants)
            .innerJoin(conversations, eq(conversations.id, conversationParticipants.conversationId))
            .where(
              and(
                eq(conversationParticipants.userId, userId),
                after === null ? undefined : gt(conversationParticipants.conversationId, after),
              ),
            )
            .orderBy(asc(conversationParticipants.conversationId))
            .limit(PAGE),
        (r) => r.id,
      ).then((rows) => rows.map((r) => ({ ...r, joinedAt: iso(r.joinedAt), leftAt: iso(r.leftAt) }))),
  },
  {
    name: 'messagesSent',
    read: (db, userId) =>
      paged(
        (after: number | null) =>
          db
            .select({
              seq: messages.seq,
              id: messages.id,
              conversationId: messages.conversationId,
              body: messages.body,
              createdAt: messages.createdAt,
              deletedAt: messages.deletedAt,
            })
            .from(messages)
            .where(and(eq(messages.senderId, userId), after === null ? undefined : gt(messages.seq, after)))
            .orderBy(asc(messages.seq))
            .limit(PAGE),
        (r) => r.seq,
      ).then((rows) =>
        rows.map(({ seq: _seq, ...r }) => ({ ...r, createdAt: iso(r.createdAt), deletedAt: iso(r.deletedAt) })),
      ),
  },
];

/**
 * Everything Folio holds about the member, section by section (each read in pages). Counted against
 * the once-a-day limit first, so a refused request reads nothing.
 */
export async function exportUserData(db: Database, userId: string, now: Date) {
  const [hit] = await hitStatement(db, `export:${userId}`, EXPORT_LIMIT, now);
  assertWithinLimit(hit, EXPORT_LIMIT, now);
  const sections: Record<string, unknown> = {};
  for (const section of EXPORT_SECTIONS) sections[section.name] = await section.read(db, userId);
  return { format: 'folio-export/1', exportedAt: now.toISOString(), ...sections };
}

/**
 * Statements that erase or anonymise one feature's data of a deleted member, for the deletion batch.
 * Features that keep member data add theirs here.
 */
type DeletionStep = (db: Database, userId: string, deleted: SQL, now: Date) => BatchItem<'sqlite'>[];

/** Conversations the member sent messages in (messages_sender_seq_idx). */
const sentIn = (userId: string) =>
  sql`(SELECT DISTINCT ${messages.conversationId} FROM ${messages} WHERE ${messages.senderId} = ${userId})`;

/** Messages from others after a participant's read marker, still there (the unread count's rule). */
const unreadOf = sql`FROM messages m WHERE m.conversation_id = conversation_participants.conversation_id
  AND m.seq > conversation_participants.last_read_seq AND m.sender_id <> conversation_participants.user_id
  AND m.deleted_at IS NULL`;

const DELETION_STEPS: DeletionStep[] = [
  // Their favorites go, and the counts on the articles they favorited follow.
  (db, userId, deleted) => [
    db
      .update(articles)
      .set({ favoritesCount: sql`MAX(0, ${articles.favoritesCount} - 1)` })
      .where(
        and(
          sql`${articles.id} IN (SELECT ${favorites.articleId} FROM ${favorites} WHERE ${favorites.userId} = ${userId})`,
          deleted,
        ),
      ),
    db.delete(favorites).where(and(eq(favorites.userId, userId), deleted)),
  ],
  (db, userId, deleted) => [
    db.delete(follows).where(and(or(eq(follows.followerId, userId), eq(follows.followeeId, userId)), deleted)),
  ],
  // Their comments go (with reports about them); drafts and scheduled articles go (with their tag links).
  (db, userId, deleted) => [db.delete(comments).where(and(eq(comments.authorId, userId), deleted))],
  (db, userId, deleted) => [
    db.delete(articles).where(and(eq(articles.authorId, userId), ne(articles.status, 'published'), deleted)),
  ],
  // Messaging: their messages become tombstones from a deleted member (the rows stay, so the others'
  // threads, cursors and read markers stay coherent); previews and the others' unread counts follow;
  // they leave every conversation; the other participants' inboxes are bumped (ETags change).
  (db, userId, deleted, now) => [
    db
      .update(users)
      .set({ inboxVersion: sql`${users.inboxVersion} + 1` })
      .where(
        and(
          ne(users.id, userId),
          sql`${users.id} IN (SELECT ${conversationParticipants.userId} FROM ${conversationParticipants}
            WHERE ${conversationParticipants.leftAt} IS NULL AND ${conversationParticipants.conversationId} IN (
              SELECT ${conversationParticipants.conversationId} FROM ${conversationParticipants} WHERE ${conversationParticipants.userId} = ${userId}))`,
          deleted,
        ),
      ),
    db
      .update(messages)
      .set({ body: null, deletedAt: now })
      .where(and(eq(messages.senderId, userId), isNull(messages.deletedAt), deleted)),
    db
      .update(conversations)
      .set({ lastMessagePreview: null })
      .where(
        and(sql`${conversations.id} IN ${sentIn(userId)}`, eq(conversations.lastMessageSenderId, userId), deleted),
      ),
    db
      .update(conversationParticipants)
      .set({
        unreadCount: sql`(SELECT count(*) ${unreadOf})`,
        unreadSince: sql`(SELECT MIN(m.created_at) ${unreadOf})`,
      })
      .where(
        and(
          sql`${conversationParticipants.conversationId} IN ${sentIn(userId)}`,
          ne(conversationParticipants.userId, userId),
          isNull(conversationParticipants.leftAt),
          deleted,
        ),
      ),
    db
      .update(conversationParticipants)
      .set({ leftAt: now, unreadCount: 0, unreadSince: null })
      .where(and(eq(conversationParticipants.userId, userId), isNull(conversationParticipants.leftAt), deleted)),
  ],
  // Billing: the ledger rows stay (accounting) without the link to the person; the membership (its
  // gateway subscription was cancelled before this batch), purchases, checkouts and the gateway
  // customer link go.
  (db, userId, deleted) => [
    db
      .update(ledger)
      .set({ userId: null })
      .where(and(eq(ledger.userId, userId), deleted)),
    db
      .update(ledger)
      .set({ authorId: null })
      .where(and(eq(ledger.authorId, userId), deleted)),
    db.delete(memberships).where(and(eq(memberships.userId, userId), deleted)),
    db.delete(purchases).where(and(eq(purchases.userId, userId), deleted)),
    db.delete(checkouts).where(and(eq(checkouts.userId, userId), deleted)),
    db.delete(gatewayCustomers).where(and(eq(gatewayCustomers.userId, userId), deleted)),
  ],
  // Every way to sign in goes: linked identities, passkeys, 2FA and its recovery codes, open sign-in flows.
  (db, userId, deleted) => [
    db.delete(identities).where(and(eq(identities.userId, userId), deleted)),
    db.delete(passkeys).where(and(eq(passkeys.userId, userId), deleted)),
    db.delete(mfaRecoveryCodes).where(and(eq(mfaRecoveryCodes.userId, userId), deleted)),
    db.delete(mfaTotp).where(and(eq(mfaTotp.userId, userId), deleted)),
    db.delete(authFlows).where(and(eq(authFlows.userId, userId), deleted)),
  ],
  (db, userId, deleted) => [db.delete(userTokens).where(and(eq(userTokens.userId, userId), deleted))],
  (db, userId, deleted) => [db.delete(sessions).where(and(eq(sessions.userId, userId), deleted))],
];

/**
 * Deletes the caller's account after re-checking the password. One batch: every feature's deletion
 * steps, the sessions (their refresh tokens cascade), the media rows, and the anonymised user row —
 * username and email replaced (so both are free again), password unusable, bio and image cleared.
 * Published articles stay, credited to the anonymised name. The last admin cannot leave (409).
 * Returns the session ids and R2 keys for the caller to drop from KV and R2.
 */
export async function deleteAccount(
  db: Database,
  userId: string,
  password: string,
  now: Date,
  beforeBatch: () => Promise<void> = async () => {},
): Promise<{ sessionIds: string[]; mediaKeys: string[] }> {
  await consumeLimit(db, `delete-account:${userId}`, DELETE_ATTEMPT_LIMIT, now);
  const [user] = await db
    .select({ passwordHash: users.passwordHash, role: users.role, deletedAt: users.deletedAt })
    .from(users)
    .where(eq(users.id, userId));
  if (!user || user.deletedAt) throw AppError.unauthorized();
  if (!(await verifyPassword(password, user.passwordHash))) {
    throw new AppError(403, { password: ['is invalid'] });
  }
  const lastAdmin = sql`(${users.role} = 'admin' AND (SELECT count(*) FROM ${users} WHERE ${users.role} = 'admin') = 1)`;
  if (user.role === 'admin') {
    const [row] = await db
      .select({ last: sql<number>`${lastAdmin}` })
      .from(users)
      .where(eq(users.id, userId));
    if (row?.last) throw AppError.conflict({ user: ['is the last admin: make someone else admin first'] });
  }
  // Outside the database (e.g. cancelling a gateway subscription), only once the member is known to go.
  await beforeBatch();
  const tag = randomToken(6)
    .replace(/[^A-Za-z0-9]/g, 'x')
    .toLowerCase();
  const guard = and(eq(users.id, userId), sql`${users.deletedAt} IS NULL`, sql`NOT ${lastAdmin}`);
  // Every later statement runs only if the anonymisation above it happened in this batch.
  const deleted = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.deletedAt} = ${now.getTime()})`;
  const steps = DELETION_STEPS.flatMap((step) => step(db, userId, deleted, now));
  const results = await db.batch([
    // Before the email changes: the login lockout is keyed by the email.
    db
      .delete(loginLockouts)
      .where(
        and(
          sql`${loginLockouts.key} = 'login:' || lower((SELECT ${users.email} FROM ${users} WHERE ${users.id} = ${userId}))`,
          sql`(SELECT count(*) FROM ${users} WHERE ${guard}) = 1`,
        ),
      ),
    db
      .update(users)
      .set({
        username: `deleted-${tag}`,
        email: `${userId}@deleted.invalid`,
        passwordHash: '!deleted',
        bio: null,
        image: null,
        emailVerifiedAt: null,
        role: 'member',
        deletedAt: now,
        updatedAt: now,
      })
      .where(guard)
      .returning({ id: users.id }),
    db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.userId, userId), deleted)),
    db
      .delete(media)
      .where(and(eq(media.ownerId, userId), deleted))
      .returning({ key: media.key }),
    ...steps,
  ]);
  const [, anonymised, deletedSessions, deletedMedia] = results as unknown as [
    unknown,
    { id: string }[],
    { id: string }[],
    { key: string }[],
  ];
  if (anonymised.length === 0) throw AppError.conflict({ user: ['could not be deleted, try again'] });
  return { sessionIds: deletedSessions.map((s) => s.id), mediaKeys: deletedMedia.map((m) => m.key) };
}

/**
 * Daily: hard-deletes anonymised accounts past the retention period that no longer author any article
 * (everything else of theirs cascades). Accounts credited with published articles stay as anonymous
 * authors. Bounded per run.
 */
export async function purgeDeletedAccounts(db: Database, now: Date): Promise<number> {
  const due = db
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        isNotNull(users.deletedAt),
        lt(users.deletedAt, new Date(now.getTime() - DELETED_RETENTION_MS)),
        sql`NOT EXISTS (SELECT 1 FROM ${articles} WHERE ${articles.authorId} = ${users.id})`,
      ),
    )
    .limit(100);
  const rows = await db.delete(users).where(inArray(users.id, due)).returning({ id: users.id });
  return rows.length;
}
