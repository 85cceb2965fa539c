/**
 * How the test gateway delivers its events: signed with the webhook secret exactly as Stripe signs
 * them (the SDK's `generateTestHeaderStringAsync`), then handed — in process, awaited, in emission
 * order — to Folio's real webhook receiver (`receiveWebhook`, the function behind
 * `POST /api/billing/webhooks`, signature check included). The action that emitted them (Pay, the
 * clock, a refund) delivers right after itself, so its response already reflects the outcome. An
 * event whose delivery fails stays pending and is retried by the next delivery, as Stripe retries.
 */
import type { Database } from '../../db/client';
import { markDeliveredStatement, undeliveredEvents } from './fake-store';
import { signPayload } from './gateway';

export type Receiver = (payload: string, signature: string) => Promise<unknown>;

export async function deliverPendingEvents(db: Database, secret: string, receive: Receiver): Promise<number> {
  let delivered = 0;
  for (const event of await undeliveredEvents(db)) {
    const header = await signPayload(event.payload, secret);
    try {
      await receive(event.payload, header);
    } catch {
      break; // keep order: later events wait for this one's retry
    }
    await markDeliveredStatement(db, event.seq, Date.now());
    delivered++;
  }
  return delivered;
}
