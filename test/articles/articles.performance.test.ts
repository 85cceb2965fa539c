import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  countQueryFor,
  countSourceOf,
  feedPageQuery,
  listPageQuery,
  searchPageQuery,
  articleBySlugQuery,
  type ArticleFilters,
} from '../../src/articles/articles.queries';
import { createDb } from '../../src/db/client';
import { tagsInUseQuery } from '../../src/tags/tags.service';
import { unique } from '../helpers/factories';
import { call } from '../helpers/request';
import { seedPublishedArticles as seed, userId } from '../helpers/content';
import { follow, newUser, postArticle } from './helpers';

interface Query {
  toSQL(): { sql: string; params: unknown[] };
}

interface PlanStep {
  id: number;
  parent: number;
  detail: string;
}

async function planSteps(query: Query): Promise<PlanStep[]> {
  const { sql, params } = query.toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<PlanStep>();
  return results;
}

async function plan(query: Query): Promise<string[]> {
  return (await planSteps(query)).map((r) => r.detail);
}

/** The steps of a page query's inner query (the deferred join's `IN (SELECT ... LIMIT ... OFFSET ...)`). */
async function pageIdsPlan(query: Query): Promise<string[]> {
  const steps = await planSteps(query);
  const roots = steps.filter((s) => s.parent === 0 && s.detail.startsWith('LIST SUBQUERY'));
  expect(roots, 'one page-ids subquery').toHaveLength(1);
  const inside = new Set([roots[0]!.id]);
  for (const step of steps) if (inside.has(step.parent)) inside.add(step.id);
  return steps.filter((s) => s.id !== roots[0]!.id && inside.has(s.id)).map((s) => s.detail);
}

/** A full scan of a content table (the FTS5 virtual table's MATCH "scan" is an index lookup). */
const FULL_SCAN =
  /^SCAN (articles|favorites|follows|article_tags|tags|users)\b(?! VIRTUAL TABLE)(?!.*USING (COVERING )?INDEX)/;

describe('read budgets', () => {
  it('serves list, feed, detail, search and tags in one D1 round trip and at most one KV read', async () => {
    const jake = await newUser();
    const reader = await newUser();
    await follow(reader, jake);
    const tag = unique('budget');
    const a = await postArticle(jake, { tagList: [tag], body: 'budgetword' });
    await call('POST', `/api/articles/${a.slug}/favorite`, { token: reader.token });
    const paths = [
      '/api/articles',
      `/api/articles?tag=${tag}`,
      `/api/articles?author=${jake.username}&favorited=${reader.username}`,
      '/api/articles?q=budgetword',
      '/api/articles/feed',
      `/api/articles/${a.slug}`,
      '/api/tags',
      '/api/articles?status=draft',
    ];
    for (const path of paths) {
      const signedIn = await call('GET', path, { token: reader.token });
      expect(signedIn.status, path).toBe(200);
      expect(signedIn.d1, path).toBe(1);
      expect(signedIn.kv, path).toBeLessThanOrEqual(1);
      if (path.includes('feed') || path.includes('status=')) continue;
      const anon = await call('GET', path);
      expect([anon.d1, anon.kv], path).toEqual([1, 0]);
    }
  });

  it('keeps writes within two D1 round trips', async () => {
    const jake = await newUser();
    const reader = await newUser();
    const create = await call('POST', '/api/articles', {
      token: jake.token,
      body: { article: { title: 't', description: 'd', body: 'b', tagList: ['x'] } },
    });
    expect(create.d1).toBe(1);
    const slug = create.body.article.slug;
    expect(
      (
        await call('PUT', `/api/articles/${slug}`, {
          token: jake.token,
          body: { article: { title: unique('T'), tagList: ['y'] } },
        })
      ).d1,
    ).toBe(2);
    const current = (await call('GET', `/api/articles?author=${jake.username}`)).body.articles[0].slug;
    expect((await call('POST', `/api/articles/${current}/favorite`, { token: reader.token })).d1).toBe(1);
    expect((await call('DELETE', `/api/articles/${current}/favorite`, { token: reader.token })).d1).toBe(1);
    expect((await call('DELETE', `/api/articles/${current}`, { token: jake.token })).d1).toBe(1);
  });

  it('costs the same round trips for a page of 100 as for a page of 1 (no N+1)', async () => {
    const reader = await newUser();
    const authors = [];
    const tag = unique('nplus');
    for (let i = 0; i < 5; i++) authors.push(await newUser());
    for (const author of authors) {
      await seed(await userId(author.username), 25, `${tag}${authors.indexOf(author)}`);
      await follow(reader, author);
    }
    const feed100 = await call('GET', '/api/articles/feed?limit=100', { token: reader.token });
    const feed1 = await call('GET', '/api/articles/feed?limit=1', { token: reader.token });
    expect(feed100.body.articles).toHaveLength(100);
    expect(feed100.body.articlesCount).toBe(125);
    expect(feed1.body.articles).toHaveLength(1);
    expect([feed100.d1, feed100.kv]).toEqual([feed1.d1, feed1.kv]);
    expect(feed100.d1).toBe(1);
    expect(feed100.body.articles.every((a: { author: { following: boolean } }) => a.author.following)).toBe(true);

    const list100 = await call('GET', '/api/articles?limit=100', { token: reader.token });
    const list1 = await call('GET', '/api/articles?limit=1', { token: reader.token });
    expect(list100.body.articles).toHaveLength(100);
    expect([list100.d1, list100.kv]).toEqual([list1.d1, list1.kv]);
    expect(list100.d1).toBe(1);
  });
});

describe('query plans', () => {
  it('uses indexes for every list, count, detail and tags query (no full table scans)', async () => {
    const db = createDb(env.DB);
    const viewer = 'usr_viewer';
    const cases: [string, ArticleFilters][] = [
      ['global', { status: 'published' }],
      ['tag', { status: 'published', tag: 'dragons' }],
      ['author', { status: 'published', author: 'jake' }],
      ['favorited', { status: 'published', favorited: 'jake' }],
      ['feed', { status: 'published', followedBy: viewer }],
      ['drafts', { status: 'draft', authorId: viewer }],
      ['combined', { status: 'published', tag: 'dragons', author: 'jake', favorited: 'jane' }],
      ['search', { status: 'published', match: '"dragons"', tag: 'dragons' }],
    ];
    const queries: [string, Query][] = [
      ['detail', articleBySlugQuery(db, 'some-slug', viewer)],
      ['detail anonymous', articleBySlugQuery(db, 'some-slug', null)],
      ['tags', tagsInUseQuery(db)],
    ];
    for (const [name, filters] of cases) {
      const page = filters.match
        ? searchPageQuery(db, { ...filters, match: filters.match }, viewer, 20, 0)
        : listPageQuery(db, filters, viewer, 20, 0);
      queries.push([`${name} page`, page], [`${name} count`, countQueryFor(db, filters)]);
    }
    for (const [name, query] of queries) {
      const steps = await plan(query);
      expect(
        steps.filter((s) => FULL_SCAN.test(s)),
        `${name}:\n${steps.join('\n')}`,
      ).toEqual([]);
    }
    // The unfiltered, tag-only and author-only counts read one counter row, the feed one per followed
    // author: no articles or article_tags at all.
    expect(cases.map(([name, filters]) => [name, countSourceOf(filters)])).toEqual([
      ['global', 'publishedCounter'],
      ['tag', 'tagCounter'],
      ['author', 'authorCounter'],
      ['favorited', 'matches'],
      ['feed', 'followedCounters'],
      ['drafts', 'matches'],
      ['combined', 'matches'],
      ['search', 'matches'],
    ]);
    for (const [name, table, index] of [
      ['global count', 'site_counters', 'sqlite_autoindex_site_counters_1'],
      ['tag count', 'tags', 'tags_name_unique'],
    ]) {
      const steps = await plan(queries.find(([n]) => n === name)![1]);
      expect(steps, name).toEqual([`SEARCH ${table} USING INDEX ${index} (name=?)`]);
    }
    expect(await plan(queries.find(([n]) => n === 'author count')![1])).toEqual([
      'SEARCH users USING INDEX users_username_lower_unique (<expr>=?)',
    ]);
    expect(await plan(queries.find(([n]) => n === 'feed count')![1])).toEqual([
      'SEARCH follows USING COVERING INDEX sqlite_autoindex_follows_1 (follower_id=?)',
      'SEARCH users USING INDEX sqlite_autoindex_users_1 (id=?)',
    ]);
    // The draft count reads one index only.
    for (const name of ['drafts count']) {
      const steps = await plan(queries.find(([n]) => n === name)![1]);
      expect(
        steps.filter((s) => /^(SEARCH|SCAN) articles/.test(s)).every((s) => s.includes('COVERING INDEX')),
        `${name}: ${steps.join('; ')}`,
      ).toBe(true);
    }
  });

  it('walks an index already in list order to pick a page (no sort of all matches before LIMIT/OFFSET)', async () => {
    const db = createDb(env.DB);
    const cases: [string, ArticleFilters, RegExp][] = [
      [
        'global',
        { status: 'published' },
        /^SEARCH articles USING COVERING INDEX articles_status_published_at_idx \(status=\?\)$/,
      ],
      [
        'author',
        { status: 'published', author: 'jake' },
        /^SEARCH articles USING COVERING INDEX articles_author_status_published_at_idx /,
      ],
      // The tag list reads the link index alone: no article row per skipped entry.
      [
        'tag',
        { status: 'published', tag: 'dragons' },
        /^SEARCH article_tags USING COVERING INDEX article_tags_tag_id_published_at_idx \(tag_id=\? AND published_at>\?\)$/,
      ],
      [
        'tag and author',
        { status: 'published', tag: 'dragons', author: 'jake' },
        /^SEARCH article_tags USING COVERING INDEX article_tags_tag_id_published_at_idx /,
      ],
    ];
    for (const [name, filters, driving] of cases) {
      const steps = await pageIdsPlan(listPageQuery(db, filters, 'usr_viewer', 20, 0));
      const described = `${name}:\n${steps.join('\n')}`;
      expect(steps[0], described).toMatch(driving);
      expect(
        steps.filter((s) => s.includes('TEMP B-TREE')),
        described,
      ).toEqual([]);
      if (name === 'tag')
        expect(
          steps.filter((s) => /\barticles\b/.test(s)),
          described,
        ).toEqual([]);
    }
  });

  it('picks a feed page by a merge walk: index seeks per walked article, no sort, no scan', async () => {
    const db = createDb(env.DB);
    const steps = await plan(feedPageQuery(db, 'usr_viewer', 20, 40));
    const described = steps.join('\n');
    expect(
      steps.filter((s) => FULL_SCAN.test(s) || s.includes('TEMP B-TREE')),
      described,
    ).toEqual([]);
    // Each followed author's newest article below the cursor, then each author's next older one: one
    // seek of the feed-key index (index entries only), never a range over all of an author's articles.
    expect(steps, described).toEqual(
      expect.arrayContaining([
        'SEARCH f USING COVERING INDEX sqlite_autoindex_follows_1 (follower_id=?)',
        'RECURSIVE STEP',
        'SEARCH x USING COVERING INDEX articles_author_status_feed_key_idx (author_id=? AND status=? AND <expr><?)',
        'SEARCH articles USING INTEGER PRIMARY KEY (rowid=?)',
        'SEARCH users USING INDEX sqlite_autoindex_users_1 (id=?)',
      ]),
    );
    expect(steps.filter((s) => /^SEARCH x /.test(s))).toEqual([
      'SEARCH x USING COVERING INDEX articles_author_status_feed_key_idx (author_id=? AND status=? AND <expr><?)',
      'SEARCH x USING COVERING INDEX articles_author_status_feed_key_idx (author_id=? AND status=? AND <expr><?)',
    ]);
  });

  it('detects a full scan (the check itself works)', async () => {
    const steps = await plan({ toSQL: () => ({ sql: 'SELECT * FROM articles WHERE body = ?', params: ['x'] }) });
    expect(steps.some((s) => FULL_SCAN.test(s))).toBe(true);
  });
});

describe('large offsets', () => {
  it('stay cheap: the page walks index entries only and the count reads one counter row', async () => {
    const jake = await newUser();
    const n = 5000;
    const tag = unique('big');
    await seed(await userId(jake.username), n, tag);
    const db = createDb(env.DB);
    const measure = async (query: Query) => {
      const { sql, params } = query.toSQL();
      const started = performance.now();
      const result = await env.DB.prepare(sql)
        .bind(...params)
        .all();
      return { rows: result.results.length, rowsRead: result.meta.rows_read, ms: performance.now() - started };
    };
    const filters: ArticleFilters = { status: 'published' };
    const first = await measure(listPageQuery(db, filters, 'usr_x', 20, 0));
    const deep = await measure(listPageQuery(db, filters, 'usr_x', 20, n - 20));
    const beyond = await measure(listPageQuery(db, filters, 'usr_x', 20, 1_000_000_000));
    const count = await measure(countQueryFor(db, filters));
    const tagCount = await measure(countQueryFor(db, { status: 'published', tag }));
    const authorCount = await measure(countQueryFor(db, { status: 'published', author: jake.username }));
    const tagFirst = await measure(listPageQuery(db, { status: 'published', tag }, 'usr_x', 20, 0));
    const tagMid = await measure(listPageQuery(db, { status: 'published', tag }, 'usr_x', 20, 1000));
    const tagDeep = await measure(listPageQuery(db, { status: 'published', tag }, 'usr_x', 20, n - 20));
    console.warn(
      `[large offsets, ${n} articles] first page ${JSON.stringify(first)}; offset ${n - 20} ${JSON.stringify(deep)}; offset 1e9 ${JSON.stringify(beyond)}; count ${JSON.stringify(count)}; tag count ${JSON.stringify(tagCount)}; author count ${JSON.stringify(authorCount)}; tag pages at offset 0 ${JSON.stringify(tagFirst)}, 1000 ${JSON.stringify(tagMid)}, ${n - 20} ${JSON.stringify(tagDeep)}`,
    );
    expect(first.rows).toBe(20);
    expect(deep.rows).toBe(20);
    expect(beyond.rows).toBe(0);
    // Rows read grow with the offset only by index entries (about one per skipped article), never
    // by whole article rows, authors or the viewer's flags of skipped articles.
    expect(deep.rowsRead).toBeLessThan(n * 1.1 + 200);
    expect(beyond.rowsRead).toBeLessThan(n * 1.1 + 200);
    // The unfiltered, tag and author counts read one row whatever the number of articles.
    expect(count.rowsRead).toBeLessThanOrEqual(2);
    expect(tagCount.rowsRead).toBeLessThanOrEqual(2);
    expect(authorCount.rowsRead).toBeLessThanOrEqual(2);
    // A tag page walks the tag's link index in list order: about limit + offset index entries plus
    // the page's rows (articles, authors, flags), not every article of the tag (before: about 3 rows
    // read per article of the tag, whatever the page).
    const pageRows = first.rowsRead - 20;
    expect([tagFirst.rows, tagMid.rows, tagDeep.rows]).toEqual([20, 20, 20]);
    expect(tagFirst.rowsRead).toBeLessThanOrEqual(20 + pageRows + 5);
    expect(tagMid.rowsRead).toBeLessThanOrEqual(1000 + 20 + pageRows + 5);
    expect(tagDeep.rowsRead).toBeLessThanOrEqual(n + pageRows + 5);
    const listed = await call('GET', `/api/articles?tag=${tag}&offset=${n - 1}`);
    expect(listed.body.articlesCount).toBe(n);
    expect(listed.body.articles).toHaveLength(1);

    const res = await call('GET', `/api/articles?author=${jake.username}&offset=1000000000`);
    expect(res.body).toEqual({ articles: [], articlesCount: n, nextBefore: null });
    expect(res.d1).toBe(1);
  });
});
