import { env } from 'cloudflare:workers';
import { it } from 'vitest';
import { countQueryFor, listPageQuery } from '../../src/articles/articles.queries';
import { createDb } from '../../src/db/client';

it('prints the list SQL', async () => {
  const db = createDb(env.DB);
  const filters = { status: 'published' as const };
  const page = listPageQuery(db, filters, 'VIEWER', 20, 0).toSQL();
  const count = countQueryFor(db, filters).toSQL();
  console.log('PAGE', JSON.stringify(page));
  console.log('COUNT', JSON.stringify(count));
});
