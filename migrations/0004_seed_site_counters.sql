-- Seeds the published-articles counter from the current data. From here on every article write
-- keeps it exact in its own batch, and the daily maintenance job recomputes it and logs any drift.
INSERT INTO site_counters (name, value) SELECT 'published_articles', count(*) FROM articles WHERE status = 'published';
