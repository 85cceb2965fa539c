import { accountsRouter } from './accounts/accounts.routes';
import { adminRouter } from './admin/admin.routes';
import { articlesRouter } from './articles/articles.routes';
import { billingRouter, WEBHOOK_PATH } from './billing/billing.routes';
import { testGatewayRouter } from './billing/test-gateway.routes';
import { commentsRouter } from './comments/comments.routes';
import { AppError, handleError } from './errors';
import { bodyLimitExcept } from './middleware/body-limit';
import { purgesPublicReads } from './http/edge-cache';
import { requestContext } from './middleware/request-context';
import { responseHeaders } from './middleware/response-headers';
import { createRouter } from './router';
import { blocksRouter } from './messages/blocks.routes';
import { messagesRouter } from './messages/messages.routes';
import { realtimeRouter } from './messages/realtime.routes';
import { profilesRouter } from './profiles/profiles.routes';
import { mfaRouter } from './mfa/mfa.routes';
import { passkeysRouter } from './passkeys/passkeys.routes';
import { socialRouter } from './social/social.routes';
import { jwksRouter } from './sessions/jwks.routes';
import { sessionsRouter } from './sessions/sessions.routes';
import { mediaFilesRouter, mediaRouter } from './media/media.routes';
import { webhooksRouter } from './webhooks/webhooks.routes';
import { privacyRouter } from './privacy/privacy.routes';
import { mountDocs } from './system/docs';
import { systemRouter } from './system/system.routes';
import { tagsRouter } from './tags/tags.routes';

/** Builds the fully configured app: global middleware, every feature router, docs, 404 and the one onError. */
function createApp() {
  const app = createRouter();

  app.use('*', requestContext);
  app.use('*', responseHeaders);
  // Uploads (src/media/media.routes.ts) and Stripe's webhook deliveries carry their own, larger caps;
  // every other /api body has this one.
  app.use('/api/*', bodyLimitExcept(['/api/media', WEBHOOK_PATH]));
  // Writes that change what anonymous readers see drop this location's cached public reads. Follows and
  // blocks (under /api/profiles) change none: no anonymous response shows them. Of the admin API only
  // hiding and showing comments changes a public read.
  for (const path of ['/api/articles', '/api/articles/*', '/api/user', '/api/admin/comments/*']) {
    app.use(path, purgesPublicReads);
  }

  // Feature routers, all under /api.
  app.route('/api', systemRouter);
  app.route('/api', accountsRouter);
  app.route('/api', sessionsRouter);
  app.route('/api', mfaRouter);
  app.route('/api', socialRouter);
  app.route('/api', passkeysRouter);
  app.route('/api', articlesRouter);
  app.route('/api', tagsRouter);
  app.route('/api', profilesRouter);
  app.route('/api', commentsRouter);
  app.route('/api', adminRouter);
  app.route('/api', mediaRouter);
  app.route('/api', webhooksRouter);
  app.route('/api', privacyRouter);
  app.route('/api', messagesRouter);
  app.route('/api', blocksRouter);
  app.route('/api', realtimeRouter);
  app.route('/api', billingRouter);
  app.route('/', jwksRouter);
  app.route('/', mediaFilesRouter);
  app.route('/', testGatewayRouter);

  mountDocs(app);
  app.notFound(() => {
    throw AppError.notFound('route');
  });
  app.onError(handleError);
  return app;
}

export const app = createApp();
