/**
 * Every D1 table, in one file. Timestamps are integer milliseconds since the epoch (`timestamp_ms`),
 * presented as ISO 8601 strings. Uniqueness is enforced by indexes, never by check-then-insert.
 */
import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import {
  ARTICLE_STATUSES,
  ARTICLE_VISIBILITIES,
  AUTH_FLOW_KINDS,
  CONVERSATION_KINDS,
  DM_POLICIES,
  BILLING_INTERVALS,
  CHECKOUT_STATUSES,
  inList,
  LEDGER_KINDS,
  MEMBERSHIP_STATUSES,
  OUTBOX_STATUSES,
  REPORT_STATUSES,
  ROLES,
  USER_TOKEN_PURPOSES,
  WEBHOOK_DELIVERY_STATUSES,
} from './values';

const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    bio: text('bio'),
    image: text('image'),
    emailVerifiedAt: timestamp('email_verified_at'),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
    /** `member < author < editor < admin` (src/security/permissions.ts says what each may do). */
    // CHECK (role IN ...) is inline in migration 0008 (a table-level check would rebuild users).
    role: text('role', { enum: ROLES }).notNull().default('member'),
    /** Set while banned (or after a ban that expired); `bannedUntil` NULL with `bannedAt` set is permanent. */
    bannedAt: timestamp('banned_at'),
    bannedUntil: timestamp('banned_until'),
    banReason: text('ban_reason'),
    /** Set when the member deleted their account (anonymised at once, hard-deleted after retention). */
    deletedAt: timestamp('deleted_at'),
    /** Who may start a conversation with this member (validated by zod: everyone | following | nobody). */
    dmPolicy: text('dm_policy', { enum: DM_POLICIES }).notNull().default('everyone'),
    /** Bumped by every write that changes this member's conversation list: the polling ETag. */
    inboxVersion: integer('inbox_version').notNull().default(0),
    /**
     * This member's published articles (denormalized: the feed's `articlesCount` sums it over the
     * followed authors, `?author=` reads it). Kept in the batch of every article write
     * (articles/articles.derived.ts); the daily maintenance job recomputes it and logs drift.
     */
    publishedArticlesCount: integer('published_articles_count').notNull().default(0),
  },
  (t) => [
    // Case-insensitive uniqueness; lookups use the same lower(...) expression so they hit these indexes.
    uniqueIndex('users_email_lower_unique').on(sql`lower(${t.email})`),
    uniqueIndex('users_username_lower_unique').on(sql`lower(${t.username})`),
    // Admin user list: newest first, keyset on (created_at, id).
    index('users_created_at_id_idx').on(t.createdAt, t.id),
    index('users_deleted_at_idx').on(t.deletedAt),
  ],
);

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull(),
    lastSeenAt: timestamp('last_seen_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    revokedAt: timestamp('revoked_at'),
    userAgent: text('user_agent'),
    country: text('country'),
    /** How the session was authenticated (RFC 8176 values, comma-separated), e.g. `pwd` or `pwd,otp,mfa`. */
    amr: text('amr').notNull().default('pwd'),
    /** Assurance level: 1 single factor, 2 two factors (or a passkey). */
    aal: integer('aal').notNull().default(1),
    /** When the user last proved who they are in this session (sign-in or re-authentication). */
    authAt: timestamp('auth_at'),
  },
  (t) => [
    index('sessions_user_id_created_at_idx').on(t.userId, t.createdAt),
    index('sessions_expires_at_idx').on(t.expiresAt),
  ],
);

/** One row per refresh token ever issued; a session's rows form its rotation family. */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
    replacedBy: text('replaced_by'),
  },
  (t) => [
    index('refresh_tokens_session_id_idx').on(t.sessionId),
    index('refresh_tokens_expires_at_idx').on(t.expiresAt),
  ],
);

/** Single-use email verification and password reset tokens, stored hashed. */
export const userTokens = sqliteTable(
  'user_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose', { enum: USER_TOKEN_PURPOSES }).notNull(),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
  },
  (t) => [
    check('user_tokens_purpose_check', inList(t.purpose, USER_TOKEN_PURPOSES)),
    index('user_tokens_user_id_purpose_idx').on(t.userId, t.purpose),
    index('user_tokens_expires_at_idx').on(t.expiresAt),
  ],
);

/** Side effects (email) written in the same batch as the change that caused them; cron delivers them. */
export const outbox = sqliteTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    recipient: text('recipient').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at').notNull(),
    leaseUntil: timestamp('lease_until'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at').notNull(),
    sentAt: timestamp('sent_at'),
  },
  (t) => [
    check('outbox_status_check', inList(t.status, OUTBOX_STATUSES)),
    index('outbox_status_next_attempt_idx').on(t.status, t.nextAttemptAt),
    index('outbox_created_at_idx').on(t.createdAt),
  ],
);

/** Fixed-window counters for per-account limits, incremented with one upsert (never read-modify-write). */
export const rateLimits = sqliteTable(
  'rate_limits',
  {
    key: text('key').notNull(),
    windowStart: integer('window_start').notNull(),
    hits: integer('hits').notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] }), index('rate_limits_window_start_idx').on(t.windowStart)],
);

/**
 * `Idempotency-Key` requests (middleware/idempotency.ts): one row per user and key, inserted in the same
 * batch as the effect it guards (the primary key makes a second effect impossible), then completed with
 * the response that a retry replays. `status` is NULL while the first request is still in flight.
 */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: integer('status'),
    responseBody: text('response_body'),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_expires_at_idx').on(t.expiresAt)],
);

/** Consecutive failed logins per account, with a lockout that doubles after each further failure. */
export const loginLockouts = sqliteTable(
  'login_lockouts',
  {
    key: text('key').primaryKey(),
    failures: integer('failures').notNull(),
    lastFailureAt: integer('last_failure_at').notNull(),
    lockedUntil: integer('locked_until').notNull(),
  },
  (t) => [index('login_lockouts_last_failure_at_idx').on(t.lastFailureAt)],
);

// ---------------------------------------------------------------------------------------------
// Content: profiles (follows), articles, tags, favorites, comments.

export const follows = sqliteTable(
  'follows',
  {
    followerId: text('follower_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    followeeId: text('followee_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.followerId, t.followeeId] }),
    index('follows_followee_id_idx').on(t.followeeId),
    check('follows_not_self_check', sql`${t.followerId} <> ${t.followeeId}`),
  ],
);

export const articles = sqliteTable(
  'articles',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull(),
    body: text('body').notNull(),
    authorId: text('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ARTICLE_STATUSES }).notNull().default('published'),
    visibility: text('visibility', { enum: ARTICLE_VISIBILITIES }).notNull().default('public'),
    /** For `scheduled`: when the cron job publishes it. */
    publishAt: timestamp('publish_at'),
    /** Set when the article becomes published; the sort key of every public list. */
    publishedAt: timestamp('published_at'),
    /** Tags in the order the author gave them (article_tags is the filterable copy). */
    tagList: text('tag_list', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    /** Denormalized for list speed; the maintenance job recomputes it and logs drift. */
    favoritesCount: integer('favorites_count').notNull().default(0),
    /**
     * Price of buying this one article, in minor units of `currency` (both NULL: not sold alone).
     * Validated by the API (a CHECK here would make drizzle-kit rebuild the table).
     */
    price: integer('price'),
    currency: text('currency'),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('articles_slug_unique').on(t.slug),
    index('articles_status_published_at_idx').on(t.status, t.publishedAt, t.id),
    index('articles_author_status_published_at_idx').on(t.authorId, t.status, t.publishedAt, t.id),
    index('articles_status_publish_at_idx').on(t.status, t.publishAt),
    // The feed's merge walk (articles.queries.ts, feedPageIds): one unique, fixed-width text key per
    // article that sorts like (published_at, id), so "the author's next older published article" is a
    // single strict range seek that reads one index entry, ties in published_at included.
    index('articles_author_status_feed_key_idx').on(
      t.authorId,
      t.status,
      sql`printf('%015d%015d', ${t.publishedAt}, ${t.id})`,
    ),
    check('articles_status_check', inList(t.status, ARTICLE_STATUSES)),
    check('articles_visibility_check', inList(t.visibility, ARTICLE_VISIBILITIES)),
  ],
);

export const tags = sqliteTable(
  'tags',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    /** Published articles carrying the tag (denormalized; recomputed by maintenance). */
    articlesCount: integer('articles_count').notNull().default(0),
  },
  (t) => [uniqueIndex('tags_name_unique').on(t.name), index('tags_articles_count_idx').on(t.articlesCount)],
);

export const articleTags = sqliteTable(
  'article_tags',
  {
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    tagId: integer('tag_id')
      .notNull()
      .references(() => tags.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    /**
     * The article's `published_at` while it is published, else NULL (denormalized so a tag list walks
     * one index already in list order). Written in the batch of every article write; the daily
     * maintenance job recomputes it and logs drift.
     */
    publishedAt: timestamp('published_at'),
  },
  (t) => [
    primaryKey({ columns: [t.articleId, t.tagId] }),
    index('article_tags_tag_id_article_id_idx').on(t.tagId, t.articleId),
    // The tag list's order (publishedAt DESC, id DESC), walked backwards.
    index('article_tags_tag_id_published_at_idx').on(t.tagId, t.publishedAt, t.articleId),
  ],
);

export const favorites = sqliteTable(
  'favorites',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.articleId] }), index('favorites_article_id_idx').on(t.articleId)],
);

export const comments = sqliteTable(
  'comments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    authorId: text('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
    /** Set by a moderator: the comment then shows only to its author. */
    hiddenAt: timestamp('hidden_at'),
  },
  (t) => [
    index('comments_article_id_created_at_idx').on(t.articleId, t.createdAt),
    index('comments_author_id_idx').on(t.authorId),
  ],
);

/**
 * Site-wide denormalized counters, one row each (`published_articles`: the number of published
 * articles, which the unfiltered article list returns as `articlesCount`). Each is updated in the
 * same `db.batch` as every write that changes it, and recomputed daily by maintenance.
 */
export const siteCounters = sqliteTable('site_counters', {
  name: text('name').primaryKey(),
  value: integer('value').notNull(),
});

// ---------------------------------------------------------------------------------------------
// Running the publication: moderation, audit, media, outbound webhooks.

/** A member's report of a comment; one per reporter and comment (reporting again is harmless). */
export const commentReports = sqliteTable(
  'comment_reports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    commentId: integer('comment_id')
      .notNull()
      .references(() => comments.id, { onDelete: 'cascade' }),
    reporterId: text('reporter_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    reason: text('reason').notNull(),
    status: text('status', { enum: REPORT_STATUSES }).notNull().default('open'),
    resolution: text('resolution'),
    resolvedBy: text('resolved_by'),
    createdAt: timestamp('created_at').notNull(),
    resolvedAt: timestamp('resolved_at'),
  },
  (t) => [
    uniqueIndex('comment_reports_comment_reporter_unique').on(t.commentId, t.reporterId),
    index('comment_reports_status_id_idx').on(t.status, t.id),
    index('comment_reports_reporter_id_idx').on(t.reporterId),
    check('comment_reports_status_check', inList(t.status, REPORT_STATUSES)),
  ],
);

/**
 * Every admin action, written in the same batch as the change. Append-only: triggers in the
 * migration refuse UPDATE and DELETE. No foreign keys, so rows outlive the accounts they name.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    before: text('before', { mode: 'json' }),
    after: text('after', { mode: 'json' }),
    requestId: text('request_id').notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [index('audit_log_target_idx').on(t.targetType, t.targetId, t.id)],
);

/** Uploaded images; the bytes live in R2 under `key`. */
export const media = sqliteTable(
  'media',
  {
    id: text('id').primaryKey(),
    key: text('key').notNull(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [uniqueIndex('media_key_unique').on(t.key), index('media_owner_id_created_at_idx').on(t.ownerId, t.createdAt)],
);

/** Outbound webhook endpoints registered by admins. */
export const webhookEndpoints = sqliteTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    url: text('url').notNull(),
    description: text('description'),
    /** JSON array of event types (see src/webhooks/webhook-events.ts). */
    events: text('events', { mode: 'json' }).$type<string[]>().notNull(),
    /** Standard Webhooks secret, `whsec_<base64>` (needed in clear to sign; shown once to the admin). */
    secret: text('secret').notNull(),
    /** After a rotation, the old secret also signs (a second `v1,` signature) until it expires. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at'),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    disabledReason: text('disabled_reason'),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (t) => [index('webhook_endpoints_created_at_idx').on(t.createdAt)],
);

/** The webhook outbox and delivery log: one row per (event, endpoint), written with the change. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    /** The Standard Webhooks `webhook-id`: one per event, the same on every retry. */
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at').notNull(),
    leaseUntil: timestamp('lease_until'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at').notNull(),
    deliveredAt: timestamp('delivered_at'),
  },
  (t) => [
    check('webhook_deliveries_status_check', inList(t.status, WEBHOOK_DELIVERY_STATUSES)),
    index('webhook_deliveries_status_next_attempt_idx').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_endpoint_created_idx').on(t.endpointId, t.createdAt, t.id),
  ],
);

// ---------------------------------------------------------------------------------------------
// Messaging: conversations, participants, messages, blocks, reports, real-time tickets, digests.

export const conversations = sqliteTable(
  'conversations',
  {
    /** Random and unguessable (`cnv_` + 128 bits). */
    id: text('id').primaryKey(),
    kind: text('kind', { enum: CONVERSATION_KINDS }).notNull(),
    title: text('title'),
    /** For `direct`: the two user ids, sorted, joined by ':' — unique, so a 1:1 exists at most once. */
    pairKey: text('pair_key'),
    createdBy: text('created_by').notNull(),
    /** `messages.seq` of the newest message (NULL before the first). */
    lastMessageSeq: integer('last_message_seq'),
    lastMessageId: text('last_message_id'),
    /** First characters of the newest message; NULL when it was deleted. */
    lastMessagePreview: text('last_message_preview'),
    lastMessageSenderId: text('last_message_sender_id'),
    lastActivityAt: timestamp('last_activity_at').notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('conversations_pair_key_unique').on(t.pairKey),
    check('conversations_kind_check', inList(t.kind, CONVERSATION_KINDS)),
  ],
);

export const conversationParticipants = sqliteTable(
  'conversation_participants',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    joinedAt: timestamp('joined_at').notNull(),
    /** Set when the member leaves: they stop receiving and can no longer read (404). */
    leftAt: timestamp('left_at'),
    /** Read marker: `messages.seq` of the newest message read (never moves backwards). */
    lastReadSeq: integer('last_read_seq').notNull().default(0),
    /** Messages from others after the read marker (kept by every send, read and delete batch). */
    unreadCount: integer('unread_count').notNull().default(0),
    /** When the oldest unread message arrived; NULL when nothing is unread. Drives the digest. */
    unreadSince: timestamp('unread_since'),
    /** Newest `messages.seq` already announced by a digest email. */
    digestSeq: integer('digest_seq').notNull().default(0),
    /** The conversation's last activity, copied here so a member's list walks one index in order. */
    activityAt: timestamp('activity_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.userId] }),
    index('conversation_participants_inbox_idx')
      .on(t.userId, t.activityAt, t.conversationId)
      .where(sql`${t.leftAt} IS NULL`),
    /** Every conversation of a member, left ones included (data export, account deletion). */
    index('conversation_participants_user_idx').on(t.userId, t.conversationId),
    index('conversation_participants_unread_since_idx')
      .on(t.unreadSince)
      .where(sql`${t.unreadSince} IS NOT NULL`),
  ],
);

export const messages = sqliteTable(
  'messages',
  {
    /** Monotonic ordering key (never reused): the cursor order of every message list. */
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    /** Public id (`msg_` + 128 bits), used in URLs and cursors. */
    id: text('id').notNull(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    /** No foreign key: history stays readable for the others whatever happens to the sender's account. */
    senderId: text('sender_id').notNull(),
    /** NULL once deleted (the row stays as a tombstone). */
    body: text('body'),
    /** The sender's idempotency key: a retry with the same one returns the first message. */
    clientId: text('client_id').notNull(),
    createdAt: timestamp('created_at').notNull(),
    deletedAt: timestamp('deleted_at'),
  },
  (t) => [
    uniqueIndex('messages_id_unique').on(t.id),
    uniqueIndex('messages_client_id_unique').on(t.conversationId, t.senderId, t.clientId),
    index('messages_conversation_seq_idx').on(t.conversationId, t.seq),
    /** A member's own messages (data export, account deletion). */
    index('messages_sender_seq_idx').on(t.senderId, t.seq),
  ],
);

/** `blocker` blocked `blocked`: no new conversations or messages between them, in either direction. */
export const blocks = sqliteTable(
  'blocks',
  {
    blockerId: text('blocker_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    blockedId: text('blocked_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.blockerId, t.blockedId] }),
    index('blocks_blocked_id_idx').on(t.blockedId, t.blockerId),
    check('blocks_not_self_check', sql`${t.blockerId} <> ${t.blockedId}`),
  ],
);

/** Reported messages, for moderation (the admin work exposes them). The body is kept as reported. */
export const messageReports = sqliteTable(
  'message_reports',
  {
    id: text('id').primaryKey(),
    messageSeq: integer('message_seq')
      .notNull()
      .references(() => messages.seq, { onDelete: 'cascade' }),
    conversationId: text('conversation_id').notNull(),
    reporterId: text('reporter_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    senderId: text('sender_id').notNull(),
    bodySnapshot: text('body_snapshot'),
    reason: text('reason'),
    status: text('status', { enum: REPORT_STATUSES }).notNull().default('open'),
    createdAt: timestamp('created_at').notNull(),
    /** Set by the moderator who resolved it: `dismissed` or `actioned`. */
    resolution: text('resolution'),
    resolvedBy: text('resolved_by'),
    resolvedAt: timestamp('resolved_at'),
  },
  (t) => [
    uniqueIndex('message_reports_message_reporter_unique').on(t.messageSeq, t.reporterId),
    index('message_reports_status_created_at_id_idx').on(t.status, t.createdAt, t.id),
    check('message_reports_status_check', inList(t.status, REPORT_STATUSES)),
  ],
);

/** Short-lived, single-use WebSocket tickets, stored hashed; consumed by one DELETE ... RETURNING. */
export const realtimeTickets = sqliteTable(
  'realtime_tickets',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at').notNull(),
  },
  (t) => [index('realtime_tickets_expires_at_idx').on(t.expiresAt)],
);

/** One row per member and digest period: at most one unread-messages digest email each. */
export const messageDigests = sqliteTable(
  'message_digests',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Start of the period, milliseconds since the epoch. */
    periodStart: integer('period_start').notNull(),
    /** Generated up front by the run that claimed the period, so its batch can tell its own claim. */
    claimId: text('claim_id').notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.periodStart] }), index('message_digests_created_at_idx').on(t.createdAt)],
);

// ---------------------------------------------------------------------------------------------
// Sign-in methods: two-factor (TOTP + recovery codes), social identities, passkeys, and the
// short-lived single-use records their flows keep server-side.

/** One TOTP authenticator per user. `enabledAt` is NULL while enrolment awaits its first code. */
export const mfaTotp = sqliteTable('mfa_totp', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** AES-GCM ciphertext of the shared secret (see src/lib/secret-box.ts). */
  secretCiphertext: text('secret_ciphertext').notNull(),
  createdAt: timestamp('created_at').notNull(),
  enabledAt: timestamp('enabled_at'),
  /** The last time step accepted: a code is never accepted for this step or an earlier one again. */
  lastUsedStep: integer('last_used_step'),
  /** Random id of the request that last advanced `lastUsedStep`, so later statements of its batch can tell it won. */
  lastUseId: text('last_use_id'),
});

/** Ten single-use recovery codes per user, stored hashed; regenerating replaces them all. */
export const mfaRecoveryCodes = sqliteTable(
  'mfa_recovery_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at').notNull(),
    usedAt: timestamp('used_at'),
    usedBy: text('used_by'),
  },
  (t) => [index('mfa_recovery_codes_user_id_idx').on(t.userId)],
);

/**
 * Short-lived, single-use server-side records of the sign-in flows, keyed by the SHA-256 of the
 * handle the client holds: `oauth` (state → PKCE verifier, nonce, redirect), `exchange` (the one-time
 * code the front end trades for a session), `mfa` (a password or social sign-in awaiting its second
 * factor), `webauthn` (a passkey challenge).
 */
export const authFlows = sqliteTable(
  'auth_flows',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: AUTH_FLOW_KINDS }).notNull(),
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
    /** Random id of the request that consumed it, so later statements of that batch can tell it won. */
    usedBy: text('used_by'),
  },
  (t) => [
    check('auth_flows_kind_check', inList(t.kind, AUTH_FLOW_KINDS)),
    index('auth_flows_expires_at_idx').on(t.expiresAt),
  ],
);

/** Social sign-in identities: one row per (provider, subject), linked to one account. */
export const identities = sqliteTable(
  'identities',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    subject: text('subject').notNull(),
    email: text('email'),
    emailVerified: integer('email_verified', { mode: 'boolean' }).notNull().default(false),
    createdAt: timestamp('created_at').notNull(),
    lastUsedAt: timestamp('last_used_at'),
  },
  (t) => [
    uniqueIndex('identities_provider_subject_unique').on(t.provider, t.subject),
    index('identities_user_id_idx').on(t.userId),
  ],
);

/** WebAuthn credentials (passkeys). `id` is the credential id, base64url. */
export const passkeys = sqliteTable(
  'passkeys',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** COSE public key, base64url. */
    publicKey: text('public_key').notNull(),
    counter: integer('counter').notNull().default(0),
    transports: text('transports', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    name: text('name').notNull(),
    createdAt: timestamp('created_at').notNull(),
    lastUsedAt: timestamp('last_used_at'),
  },
  (t) => [index('passkeys_user_id_idx').on(t.userId)],
);
// Billing: tiers, gateway customers, memberships, checkouts, purchases, the ledger, processed
// webhook events. Amounts are integers in minor units with an ISO 4217 currency code (upper case).

/** Membership tiers the publication offers (`GET /api/tiers`). */
export const tiers = sqliteTable(
  'tiers',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    benefits: text('benefits', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    monthlyPrice: integer('monthly_price').notNull(),
    yearlyPrice: integer('yearly_price').notNull(),
    currency: text('currency').notNull(),
    active: integer('active', { mode: 'boolean' }).notNull().default(true),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [
    index('tiers_active_idx').on(t.active, t.monthlyPrice),
    check('tiers_prices_check', sql`${t.monthlyPrice} > 0 AND ${t.yearlyPrice} > 0`),
  ],
);

/** The gateway customer bound to each user: created once, unique both ways. */
export const gatewayCustomers = sqliteTable(
  'gateway_customers',
  {
    userId: text('user_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    customerId: text('customer_id').notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [uniqueIndex('gateway_customers_customer_id_unique').on(t.customerId)],
);

/**
 * One membership per user, mirroring the gateway's subscription. `gatewayStateAt` is when the state
 * was read from the gateway: an upsert only wins when it is newer (newest wins, guarded in SQL).
 */
export const memberships = sqliteTable(
  'memberships',
  {
    userId: text('user_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    tierId: text('tier_id')
      .notNull()
      .references(() => tiers.id),
    status: text('status', { enum: MEMBERSHIP_STATUSES }).notNull(),
    interval: text('interval', { enum: BILLING_INTERVALS }).notNull(),
    currentPeriodEnd: timestamp('current_period_end').notNull(),
    cancelAtPeriodEnd: integer('cancel_at_period_end', { mode: 'boolean' }).notNull().default(false),
    gatewaySubscriptionId: text('gateway_subscription_id').notNull(),
    gatewayStateAt: integer('gateway_state_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('memberships_gateway_subscription_id_unique').on(t.gatewaySubscriptionId),
    index('memberships_status_period_end_idx').on(t.status, t.currentPeriodEnd),
    check('memberships_status_check', inList(t.status, MEMBERSHIP_STATUSES)),
    check('memberships_interval_check', inList(t.interval, BILLING_INTERVALS)),
  ],
);

/** Checkout sessions Folio opened; at most one open per user and purpose (retries get the same one). */
export const checkouts = sqliteTable(
  'checkouts',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** What is being bought, e.g. `membership:<tier>:month`, `article:<id>`, `tip:<author>:<amount>`. */
    purpose: text('purpose').notNull(),
    url: text('url').notNull(),
    status: text('status', { enum: CHECKOUT_STATUSES }).notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('checkouts_open_purpose_unique')
      .on(t.userId, t.purpose)
      .where(sql`${t.status} = 'open'`),
    index('checkouts_status_expires_at_idx').on(t.status, t.expiresAt),
    check('checkouts_status_check', inList(t.status, CHECKOUT_STATUSES)),
  ],
);

/** Single articles bought; a refund revokes the purchase (`revokedAt`). */
export const purchases = sqliteTable(
  'purchases',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    gatewayPaymentId: text('gateway_payment_id').notNull(),
    createdAt: timestamp('created_at').notNull(),
    revokedAt: timestamp('revoked_at'),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.articleId] }),
    index('purchases_gateway_payment_id_idx').on(t.gatewayPaymentId),
  ],
);

/**
 * The immutable money ledger: one row per payment, refund and tip (never updated or deleted; a
 * refund is a new row pointing at the payment). `gatewayId` is the gateway object that moved the
 * money (invoice, payment intent or refund id) and is unique, so a redelivered event adds nothing.
 */
export const ledger = sqliteTable(
  'ledger',
  {
    id: text('id').primaryKey(),
    gatewayId: text('gateway_id').notNull(),
    /** The payment intent behind the money (refunds go through it). */
    gatewayPaymentIntentId: text('gateway_payment_intent_id'),
    kind: text('kind', { enum: LEDGER_KINDS }).notNull(),
    /** Positive for payments, negative for refunds. */
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    fee: integer('fee').notNull().default(0),
    userId: text('user_id').references(() => users.id, { onDelete: 'set null' }),
    authorId: text('author_id').references(() => users.id, { onDelete: 'set null' }),
    articleId: integer('article_id').references(() => articles.id, { onDelete: 'set null' }),
    tierId: text('tier_id'),
    /** For refunds: the ledger row refunded. */
    refundOf: text('refund_of'),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('ledger_gateway_id_unique').on(t.gatewayId),
    index('ledger_user_id_created_at_idx').on(t.userId, t.createdAt),
    index('ledger_author_id_created_at_idx').on(t.authorId, t.createdAt),
    index('ledger_payment_intent_idx').on(t.gatewayPaymentIntentId),
    index('ledger_created_at_idx').on(t.createdAt),
    check('ledger_kind_check', inList(t.kind, LEDGER_KINDS)),
  ],
);

/** Webhook events already applied (the id is unique: a redelivery is a no-op). */
export const billingEvents = sqliteTable(
  'billing_events',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    receivedAt: timestamp('received_at').notNull(),
  },
  (t) => [index('billing_events_received_at_idx').on(t.receivedAt)],
);

// ---------------------------------------------------------------------------------------------
// The test gateway's own state (GATEWAY=test only): a small in-process fake of Stripe. Objects are
// stored as Stripe-shaped JSON; nothing in Folio reads these tables except the fake itself.

export const gwObjects = sqliteTable(
  'gw_objects',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('gw_objects_type_idx').on(t.type, t.createdAt)],
);

export const gwIdempotencyKeys = sqliteTable('gw_idempotency_keys', {
  key: text('key').primaryKey(),
  requestHash: text('request_hash').notNull(),
  status: integer('status').notNull(),
  response: text('response').notNull(),
  createdAt: integer('created_at').notNull(),
});

/** Events the fake emitted, delivered to Folio's webhook handler in order. */
export const gwEvents = sqliteTable(
  'gw_events',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    id: text('id').notNull(),
    payload: text('payload').notNull(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [uniqueIndex('gw_events_id_unique').on(t.id), index('gw_events_delivered_at_idx').on(t.deliveredAt)],
);

/** The fake gateway's clock offset and switches (one row per name). */
export const gwSettings = sqliteTable('gw_settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});
