CREATE TABLE `billing_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `billing_events_received_at_idx` ON `billing_events` (`received_at`);--> statement-breakpoint
CREATE TABLE `checkouts` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`purpose` text NOT NULL,
	`url` text NOT NULL,
	`status` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "checkouts_status_check" CHECK("checkouts"."status" IN ('open', 'complete', 'expired'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `checkouts_open_purpose_unique` ON `checkouts` (`user_id`,`purpose`) WHERE "checkouts"."status" = 'open';--> statement-breakpoint
CREATE INDEX `checkouts_status_expires_at_idx` ON `checkouts` (`status`,`expires_at`);--> statement-breakpoint
CREATE TABLE `gateway_customers` (
	`user_id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `gateway_customers_customer_id_unique` ON `gateway_customers` (`customer_id`);--> statement-breakpoint
CREATE TABLE `gw_events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`payload` text NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `gw_events_id_unique` ON `gw_events` (`id`);--> statement-breakpoint
CREATE INDEX `gw_events_delivered_at_idx` ON `gw_events` (`delivered_at`);--> statement-breakpoint
CREATE TABLE `gw_idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`request_hash` text NOT NULL,
	`status` integer NOT NULL,
	`response` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `gw_objects` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`data` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `gw_objects_type_idx` ON `gw_objects` (`type`,`created_at`);--> statement-breakpoint
CREATE TABLE `gw_settings` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ledger` (
	`id` text PRIMARY KEY NOT NULL,
	`gateway_id` text NOT NULL,
	`gateway_payment_intent_id` text,
	`kind` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`fee` integer DEFAULT 0 NOT NULL,
	`user_id` text,
	`author_id` text,
	`article_id` integer,
	`tier_id` text,
	`refund_of` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`author_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`article_id`) REFERENCES `articles`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "ledger_kind_check" CHECK("ledger"."kind" IN ('membership', 'article', 'tip', 'refund'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_gateway_id_unique` ON `ledger` (`gateway_id`);--> statement-breakpoint
CREATE INDEX `ledger_user_id_created_at_idx` ON `ledger` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `ledger_author_id_created_at_idx` ON `ledger` (`author_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `ledger_payment_intent_idx` ON `ledger` (`gateway_payment_intent_id`);--> statement-breakpoint
CREATE TABLE `memberships` (
	`user_id` text PRIMARY KEY NOT NULL,
	`tier_id` text NOT NULL,
	`status` text NOT NULL,
	`interval` text NOT NULL,
	`current_period_end` integer NOT NULL,
	`cancel_at_period_end` integer DEFAULT false NOT NULL,
	`gateway_subscription_id` text NOT NULL,
	`gateway_state_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tier_id`) REFERENCES `tiers`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "memberships_status_check" CHECK("memberships"."status" IN ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')),
	CONSTRAINT "memberships_interval_check" CHECK("memberships"."interval" IN ('month', 'year'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `memberships_gateway_subscription_id_unique` ON `memberships` (`gateway_subscription_id`);--> statement-breakpoint
CREATE INDEX `memberships_status_period_end_idx` ON `memberships` (`status`,`current_period_end`);--> statement-breakpoint
CREATE TABLE `purchases` (
	`user_id` text NOT NULL,
	`article_id` integer NOT NULL,
	`gateway_payment_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	PRIMARY KEY(`user_id`, `article_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`article_id`) REFERENCES `articles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `purchases_gateway_payment_id_idx` ON `purchases` (`gateway_payment_id`);--> statement-breakpoint
CREATE TABLE `tiers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`benefits` text DEFAULT '[]' NOT NULL,
	`monthly_price` integer NOT NULL,
	`yearly_price` integer NOT NULL,
	`currency` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	CONSTRAINT "tiers_prices_check" CHECK("tiers"."monthly_price" > 0 AND "tiers"."yearly_price" > 0)
);
--> statement-breakpoint
CREATE INDEX `tiers_active_idx` ON `tiers` (`active`,`monthly_price`);--> statement-breakpoint
ALTER TABLE `articles` ADD `price` integer;--> statement-breakpoint
ALTER TABLE `articles` ADD `currency` text;--> statement-breakpoint
-- Seed: one active tier, so a fresh database offers a membership right away (admins edit it later).
INSERT INTO `tiers` (`id`, `name`, `description`, `benefits`, `monthly_price`, `yearly_price`, `currency`, `active`, `created_at`)
VALUES ('tier_supporter', 'Supporter', 'Read every paid article and support the writers.', '["Every paid article","Members-only newsletter"]', 500, 5000, 'USD', 1, 1764374400000)
ON CONFLICT (`id`) DO NOTHING;
