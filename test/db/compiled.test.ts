import { env } from 'cloudflare:workers';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { articleBySlugQuery, articleBySlugRead, listPageQuery, listReads } from '../../src/articles/articles.queries';
import { createDb } from '../../src/db/client';
import { compiledQuery, placeholder, type Bindable } from '../../src/db/compiled';
import { articles, favorites, users } from '../../src/db/schema';
import { countD1, newMetrics } from '../../src/lib/metrics';
import { createArticle, favorite, userId } from '../helpers/content';
import { registerUser } from '../helpers/factories';

describe('compiled queries (src/db/compiled.ts)', () => {
  it('answer exactly what the builder they were made from answers, for each shape and each request value', async () => {
    const author = await registerUser();
    const reader = await registerUser();
    const readerId = await userId(reader.username);
    const authorId = await userId(author.username);
    const first = await createArticle(author, { tagList: ['compiled-a'] });
    const second = await createArticle(author, { tagList: ['compiled-b'], visibility: 'paid' });
    await favorite(readerId, first.slug);
    const db = createDb(env.DB);

    for (const slug of [first.slug, second.slug, 'no-such-article']) {
      for (const viewer of [null, readerId, authorId]) {
        expect(await articleBySlugRead(db, slug, viewer)).toEqual(await articleBySlugQuery(db, slug, viewer));
      }
    }
    const lists = [
      { status: 'published' as const },
      { status: 'published' as const, tag: 'compiled-a' },
      { status: 'published' as const, tag: 'compiled-b', author: author.username },
      { status: 'published' as const, favorited: reader.username },
    ];
    for (const filters of lists) {
      for (const viewer of [null, readerId]) {
        for (const [limit, offset] of [
          [20, 0],
          [1, 1],
        ] as const) {
          const [page] = await db.batch(listReads(db, filters, viewer, limit, offset));
          expect(page).toEqual(await listPageQuery(db, filters, viewer, limit, offset));
        }
      }
    }
  });

  it('build the SQL once per shape; each run is one counted round trip on the request’s own database', async () => {
    let builds = 0;
    const byName = compiledQuery((db, _shape: 'one') => {
      builds++;
      return db
        .select({ id: users.id })
        .from(users)
        .where(eq(users.username, placeholder<string>('username')));
    });
    const a = await registerUser();
    const b = await registerUser();
    const metrics = newMetrics();
    const db = createDb(countD1(env.DB, metrics));
    expect(await byName(db, 'one', { username: a.username })).toEqual([{ id: await userId(a.username) }]);
    expect(await byName(db, 'one', { username: b.username })).toEqual([{ id: await userId(b.username) }]);
    const [inBatch, plain] = await db.batch([
      byName(db, 'one', { username: 'nobody-here' }),
      db
        .select({ one: sql<number>`1`.as('one') })
        .from(users)
        .limit(1),
    ]);
    expect(inBatch).toEqual([]);
    expect(plain).toEqual([{ one: 1 }]);
    expect(builds).toBe(1);
    expect(metrics.d1).toBe(3);
  });

  it('map rows as drizzle does: nested fields, SQL decoders, NULLs, and a left join’s missing side', async () => {
    const author = await registerUser();
    const post = await createArticle(author, { tagList: ['compiled-map'] });
    const db = createDb(env.DB);
    const fields = {
      id: articles.id,
      tags: articles.tagList,
      at: articles.publishedAt,
      publishAt: articles.publishAt,
      author: { name: users.username, bio: users.bio, since: users.createdAt },
      stars: sql<number>`${articles.favoritesCount} + 1`.mapWith(Number),
    };
    const inner = (d: typeof db, slug: Bindable<string>) =>
      d.select(fields).from(articles).innerJoin(users, eq(users.id, articles.authorId)).where(eq(articles.slug, slug));
    const compiledInner = compiledQuery((d, _shape: 'one') => inner(d, placeholder<string>('slug')));
    const built = await inner(db, post.slug);
    expect(built).toHaveLength(1);
    expect(built[0]!.at).toBeInstanceOf(Date);
    expect(await compiledInner(db, 'one', { slug: post.slug })).toEqual(built);
    const [inBatch] = await db.batch([compiledInner(db, 'one', { slug: post.slug })]);
    expect(inBatch).toEqual(built);

    // A left join may null a whole side: such a template keeps drizzle's own mapping.
    const left = (d: typeof db) =>
      d
        .select({ id: articles.id, favoriter: { id: favorites.userId } })
        .from(articles)
        .leftJoin(favorites, eq(favorites.articleId, articles.id))
        .where(eq(articles.slug, placeholder<string>('slug')));
    const compiledLeft = compiledQuery((d, _shape: 'one') => left(d));
    expect(await compiledLeft(db, 'one', { slug: post.slug })).toEqual([{ id: built[0]!.id, favoriter: null }]);
  });

  it('refuse to run without a value for every placeholder', async () => {
    const byName = compiledQuery((db, _shape: 'one') =>
      db
        .select({ id: users.id })
        .from(users)
        .where(eq(users.username, placeholder<string>('username'))),
    );
    expect(() => byName(createDb(env.DB), 'one', {})).toThrow(/no value for placeholder "username"/);
  });
});
