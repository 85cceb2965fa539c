ALTER TABLE `users` ADD `published_articles_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Written by hand: drizzle-kit splits an index expression at its commas (its snapshot has it right).
CREATE INDEX `articles_author_status_feed_key_idx` ON `articles` (`author_id`,`status`,printf('%015d%015d', "published_at", "id"));--> statement-breakpoint
-- Backfills users.published_articles_count from the current data. From here on every article write
-- keeps it exact in its own batch, and the daily maintenance job recomputes it and logs any drift.
UPDATE users SET published_articles_count = (SELECT count(*) FROM articles WHERE articles.author_id = users.id AND articles.status = 'published')
WHERE users.id IN (SELECT articles.author_id FROM articles WHERE articles.status = 'published');
