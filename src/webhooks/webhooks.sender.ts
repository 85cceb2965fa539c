/** What one delivery attempt sends. */
interface OutgoingWebhook {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The receiver's answer (status 0: no answer, e.g. a timeout or a refused connection). */
interface WebhookResult {
  status: number;
  error: string | null;
}

/** Sends one webhook. Pluggable like the email sender; the default posts with fetch. */
export type WebhookSender = (webhook: OutgoingWebhook) => Promise<WebhookResult>;

const TIMEOUT_MS = 10_000;

/** POSTs the signed JSON; never follows redirects (a 3xx is a failure), gives up after 10 seconds. */
export const fetchWebhookSender: WebhookSender = async (webhook) => {
  try {
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers: webhook.headers,
      body: webhook.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // Drain without reading more than needed: only the status matters.
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { status: response.status, error: ok ? null : `answered ${response.status}` };
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    return { status: 0, error: name === 'TimeoutError' ? 'timed out' : 'could not connect' };
  }
};
