/**
 * Every event type Folio can send to webhook endpoints, in one place. `membership.updated` and
 * `payment.succeeded` are emitted by the billing feature; the others by their write paths.
 */
export const WEBHOOK_EVENTS = [
  'article.published',
  'article.updated',
  'article.deleted',
  'member.created',
  'comment.created',
  'membership.updated',
  'payment.succeeded',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Sent only by "send test event"; endpoints receive it whatever they subscribed to. */
export const TEST_EVENT = 'webhook.test';
