-- Full-text index over articles (rowid = articles.id). Written by the article service in the same
-- db.batch as each article insert/update/delete; drizzle-kit cannot describe virtual tables.
CREATE VIRTUAL TABLE `articles_fts` USING fts5(`title`, `description`, `body`, tokenize = 'porter unicode61');
