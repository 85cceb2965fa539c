import { toProfile } from '../profiles/profiles.present';

export interface CommentRow {
  id: number;
  createdAt: Date;
  updatedAt: Date;
  body: string;
  author: { username: string; bio: string | null; image: string | null; following: boolean };
}

/** The RealWorld comment object: integer id, ISO 8601 timestamps with milliseconds, author profile. */
export function toComment(row: CommentRow) {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    body: row.body,
    author: toProfile(row.author),
  };
}
