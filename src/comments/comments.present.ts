import { toProfile } from '../profiles/profiles.present';

export interface CommentRow {
  id: number;
  createdAt: Date;
  updatedAt: Date;
  body: string;
  /** Hidden by a moderator (listed to its author only). */
  hidden?: boolean;
  author: { username: string; bio: string | null; image: string | null; following: boolean };
}

/**
 * The RealWorld comment object: integer id, ISO 8601 timestamps with milliseconds, author profile; plus
 * `hidden: true` on the author's own comment that a moderator hid (absent otherwise, so every other
 * comment keeps RealWorld's exact shape).
 */
export function toComment(row: CommentRow) {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    body: row.body,
    ...(row.hidden ? { hidden: true as const } : {}),
    author: toProfile(row.author),
  };
}
