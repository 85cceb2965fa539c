import { canReadBody, type Viewer } from '../billing/membership';
import { toProfile } from '../profiles/profiles.present';
import type { ArticleDetailRow, ArticleListRow } from './articles.queries';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A list item: the RealWorld fields without `body`, plus Folio's additive fields. */
export function toArticleListItem(row: ArticleListRow, viewer: Viewer | null) {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    tagList: row.tagList,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    favorited: row.favorited,
    favoritesCount: row.favoritesCount,
    author: toProfile({
      username: row.authorUsername,
      bio: row.authorBio,
      image: row.authorImage,
      following: row.following,
    }),
    status: row.status,
    visibility: row.visibility,
    publishAt: iso(row.publishAt),
    publishedAt: iso(row.publishedAt),
    price: row.price,
    currency: row.currency,
    locked: !canReadBody(viewer, row),
  };
}

/** The single article: a list item plus `body`, which is `null` when the viewer may not read it. */
export function toArticle(row: ArticleDetailRow, viewer: Viewer | null) {
  const item = toArticleListItem(row, viewer);
  return { ...item, body: item.locked ? null : row.body };
}
