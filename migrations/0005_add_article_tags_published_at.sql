ALTER TABLE `article_tags` ADD `published_at` integer;--> statement-breakpoint
CREATE INDEX `article_tags_tag_id_published_at_idx` ON `article_tags` (`tag_id`,`published_at`,`article_id`);