/**
 * D1 read replication (Sessions API): a client sends the bookmark of its last response in
 * `x-d1-bookmark` and gets the new one back, so every request of that client reads data at least as
 * new as what it saw before (sequential consistency), whichever replica answers.
 */
export const BOOKMARK_HEADER = 'x-d1-bookmark';

/** D1 bookmarks look like `00000000-0000000a-00000000-<hash>`; anything else is ignored, not passed to D1. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32,64}$/i;

/** The client's bookmark when well formed, else null (start anywhere: `first-unconstrained`). */
export function readBookmark(header: string | undefined): string | null {
  return header && header.length <= 128 && BOOKMARK.test(header) ? header : null;
}
