DROP INDEX `message_reports_status_created_at_idx`;--> statement-breakpoint
ALTER TABLE `message_reports` ADD `resolution` text;--> statement-breakpoint
ALTER TABLE `message_reports` ADD `resolved_by` text;--> statement-breakpoint
ALTER TABLE `message_reports` ADD `resolved_at` integer;--> statement-breakpoint
CREATE INDEX `message_reports_status_created_at_id_idx` ON `message_reports` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `conversation_participants_user_idx` ON `conversation_participants` (`user_id`,`conversation_id`);--> statement-breakpoint
CREATE INDEX `ledger_created_at_idx` ON `ledger` (`created_at`);--> statement-breakpoint
CREATE INDEX `messages_sender_seq_idx` ON `messages` (`sender_id`,`seq`);