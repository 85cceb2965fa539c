-- Backfills article_tags.published_at (added by 0005): the article's published_at while it is
-- published, else NULL (the column's value after 0005, so only links of published articles are
-- written). From here on every article write keeps it exact in its own batch, and the daily
-- maintenance job recomputes it and logs any drift.
UPDATE article_tags SET published_at = (SELECT articles.published_at FROM articles WHERE articles.id = article_tags.article_id AND articles.status = 'published')
WHERE article_tags.article_id IN (SELECT articles.id FROM articles WHERE articles.status = 'published');
