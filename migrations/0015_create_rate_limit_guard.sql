-- A per-account limit that refuses a whole write batch (src/security/rate-limit.ts, `limitGuard`): the batch
-- counts the hit (the usual rate_limits upsert), then inserts into this view, which stores nothing; its
-- trigger aborts the batch, the hit with it, once the window holds more hits than `max_hits`. For writes
-- whose later statements depend on the first one having happened (a new article's tags, counters, webhook).
CREATE VIEW `rate_limit_guard` AS SELECT NULL AS `key`, NULL AS `window_start`, NULL AS `max_hits` WHERE 0;--> statement-breakpoint
CREATE TRIGGER `rate_limit_guard_check` INSTEAD OF INSERT ON `rate_limit_guard`
WHEN (SELECT `hits` FROM `rate_limits` WHERE `key` = NEW.`key` AND `window_start` = NEW.`window_start`) > NEW.`max_hits`
BEGIN SELECT RAISE(ABORT, 'folio_rate_limited'); END;
