/**
 * Who may read an article's body. The single place the content API asks about paid access; the
 * billing work replaces the `paid` rule with "the author, or an active paying member" (it must stay
 * free of extra D1 round trips on read paths: membership state arrives with the viewer).
 */
import type { Visibility } from '../db/values';

export interface Viewer {
  userId: string;
}

/** The viewer for a request's user id (null when anonymous): the one way a Viewer is built. */
export const viewerOf = (userId: string | null): Viewer | null => (userId ? { userId } : null);

export function canReadBody(viewer: Viewer | null, article: { authorId: string; visibility: Visibility }): boolean {
  if (article.visibility === 'public') return true;
  if (!viewer) return false;
  if (article.authorId === viewer.userId) return true;
  if (article.visibility === 'members') return true;
  // paid: until billing lands, only the author.
  return false;
}
