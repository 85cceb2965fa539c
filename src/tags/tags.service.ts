import { asc, desc, gt } from 'drizzle-orm';
import type { Database } from '../db/client';
import { compiledQuery } from '../db/compiled';
import { tags } from '../db/schema';

/**
 * Tags in use by published articles, most used first. `articles_count` is maintained by the article
 * writes (published articles only), so this reads the tags index alone, with no top-N cut.
 */
export function tagsInUseQuery(db: Database) {
  return db
    .select({ name: tags.name })
    .from(tags)
    .where(gt(tags.articlesCount, 0))
    .orderBy(desc(tags.articlesCount), asc(tags.name));
}

const compiledTagsInUse = compiledQuery((db, _shape: 'all') => tagsInUseQuery(db));

export async function listTags(db: Database): Promise<string[]> {
  const rows = await compiledTagsInUse(db, 'all', {});
  return rows.map((r) => r.name);
}
