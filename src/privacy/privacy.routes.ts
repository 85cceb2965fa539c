import { createRoute, z } from '@hono/zod-openapi';
import { errors, jsonBody, jsonResponse, tokenAuth } from '../openapi';
import { createRouter } from '../router';
import { closeRealtimeSessions } from '../messages/realtime.notify';
import { deleteSessionCopies } from '../sessions/sessions.kv';
import { requireAuth } from '../sessions/sessions.middleware';
import { cancelSubscriptionForDeletion } from '../billing/billing.admin';
import { billingDeps } from '../billing/billing.deps';
import { deleteAccount, exportUserData } from './privacy.service';

/** Data rights: take your data (export) and leave (delete the account). */
export const privacyRouter = createRouter();
const tags = ['Data rights'];

privacyRouter.openapi(
  createRoute({
    method: 'get',
    path: '/user/export',
    tags,
    summary: 'Download everything Folio holds about you (JSON)',
    description:
      'Profile, articles (drafts included), comments, favorites, follows, sessions, uploads and reports you filed. Once a day (429 with Retry-After otherwise).',
    security: tokenAuth,
    middleware: requireAuth,
    responses: {
      200: jsonResponse(
        z.record(z.string(), z.unknown()).openapi('DataExport', {
          description:
            'The archive: `format`, `exportedAt`, then one key per section (profile, articles, comments, favorites, following, followers, sessions, media, commentReports).',
        }),
        'The archive',
      ),
      401: errors[401],
      429: errors[429],
    },
  }),
  async (c) => {
    const now = new Date();
    const archive = await exportUserData(c.get('db'), c.get('auth').userId, now);
    return c.json(archive, 200, {
      'Content-Disposition': `attachment; filename="folio-export-${now.toISOString().slice(0, 10)}.json"`,
      'Cache-Control': 'no-store',
    });
  },
);

const DeleteAccountBody = z
  .object({
    password: z
      .string({ error: "can't be blank" })
      .min(1, "can't be blank")
      .max(128)
      .openapi({ description: 'Your current password (a fresh re-authentication).' }),
  })
  .openapi('DeleteAccountRequest', { description: 'Confirm the deletion.', example: { password: 'jakejake1' } });

privacyRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/user',
    tags,
    summary: 'Delete your account',
    description:
      'Requires your password again. Signs you out everywhere, deletes your comments, favorites, follows, drafts and uploads, cancels your paid membership at the gateway, turns your messages into tombstones and leaves your conversations, keeps your ledger rows for accounting without your name, and anonymises the account (username and email become free). Published articles stay, credited to the anonymised name. The row is hard-deleted after 30 days when no article is credited to it.',
    security: tokenAuth,
    middleware: requireAuth,
    request: jsonBody(DeleteAccountBody),
    responses: {
      204: { description: 'Deleted' },
      401: errors[401],
      403: errors[403],
      409: errors[409],
      422: errors[422],
      429: errors[429],
      502: { description: 'The payment gateway failed (nothing was deleted)', content: errors[400].content },
    },
  }),
  async (c) => {
    const { sessionIds, mediaKeys } = await deleteAccount(
      c.get('db'),
      c.get('auth').userId,
      c.req.valid('json').password,
      new Date(),
      async () => cancelSubscriptionForDeletion(await billingDeps(c), c.get('auth').userId),
    );
    await deleteSessionCopies(c.get('sessionsKv'), sessionIds);
    c.executionCtx.waitUntil(closeRealtimeSessions(c.env, c.get('auth').userId, sessionIds));
    for (let i = 0; i < mediaKeys.length; i += 1000) await c.env.MEDIA.delete(mediaKeys.slice(i, i + 1000));
    return c.body(null, 204);
  },
);
