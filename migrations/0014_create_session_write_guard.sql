-- Custom SQL migration file, put your code below! --
-- The session write guard (src/db/write-guard.ts): every write a signed-in request sends starts its batch
-- with `INSERT INTO session_write_guard (session_id, now) VALUES (?, ?)`. The view stores nothing; its
-- trigger aborts the whole batch (one transaction) unless that session is still live in D1, the record, so
-- a session revoked (sign-out, ban, role change, password change, account deletion) cannot write even
-- where its edge copy in KV has not expired yet. One primary-key read per write batch, no round trip.
CREATE VIEW `session_write_guard` AS SELECT NULL AS `session_id`, NULL AS `now` WHERE 0;--> statement-breakpoint
CREATE TRIGGER `session_write_guard_check` INSTEAD OF INSERT ON `session_write_guard`
WHEN NOT EXISTS (
  SELECT 1 FROM `sessions` WHERE `id` = NEW.`session_id` AND `revoked_at` IS NULL AND `expires_at` > NEW.`now`
)
BEGIN SELECT RAISE(ABORT, 'folio_session_revoked'); END;
