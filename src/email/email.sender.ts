import { ConfigError } from '../errors';
import { logInfo } from '../lib/log';

interface OutgoingEmail {
  /** Stable per message: sent as the provider's idempotency key so a retried send is not a second email. */
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** Delivers one email or throws. Pluggable: the HTTP API sender in production, a logger in development. */
export type EmailSender = (email: OutgoingEmail) => Promise<void>;

/** Posts JSON `{from, to, subject, text}` with a bearer key, the common shape of transactional email APIs. */
function httpSender(url: string, apiKey: string): EmailSender {
  return async (email) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${apiKey}`,
        'Idempotency-Key': email.id,
      },
      body: JSON.stringify({ from: email.from, to: email.to, subject: email.subject, text: email.text }),
    });
    if (!response.ok) throw new Error(`email API answered ${response.status}`);
  };
}

/** Development only: the message is logged (and listed at GET /api/dev/outbox), never sent. */
const logSender: EmailSender = async (email) => {
  logInfo('email (development: not sent)', {
    outboxId: email.id,
    to: email.to,
    subject: email.subject,
    text: email.text,
  });
};

export function createEmailSender(env: Env, isProduction: boolean): EmailSender {
  if (env.EMAIL_API_URL && env.EMAIL_API_KEY) return httpSender(env.EMAIL_API_URL, env.EMAIL_API_KEY);
  if (isProduction) throw new ConfigError('EMAIL_API_URL and EMAIL_API_KEY secrets are required in production');
  return logSender;
}
