CREATE TABLE `cancel_flows` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`user_id` text NOT NULL,
	`reason` text NOT NULL,
	`note` text NOT NULL,
	`offer_kind` text NOT NULL,
	`offer` text NOT NULL,
	`status` text NOT NULL,
	`mrr_cents` integer NOT NULL,
	`saved_mrr_cents` integer DEFAULT 0 NOT NULL,
	`idempotency_key` text,
	`result` text,
	`created_at` integer NOT NULL,
	`resolved_at` integer
);
--> statement-breakpoint
CREATE INDEX `cancel_flows_account` ON `cancel_flows` (`account_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `cancel_flows_created` ON `cancel_flows` (`created_at`);--> statement-breakpoint
CREATE TABLE `scheduled_changes` (
	`account_id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`plan_id` text,
	`seats` integer,
	`effective_at` integer NOT NULL,
	`idempotency_key` text NOT NULL,
	`user_id` text NOT NULL,
	`reason` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `accounts` ADD `billing_interval` text;--> statement-breakpoint
ALTER TABLE `accounts` ADD `discount_percent` integer;--> statement-breakpoint
ALTER TABLE `accounts` ADD `discount_ends_at` integer;--> statement-breakpoint
ALTER TABLE `accounts` ADD `paused_until` integer;--> statement-breakpoint
ALTER TABLE `plans` ADD `annual_price_cents` integer;--> statement-breakpoint
ALTER TABLE `plans` ADD `stripe_annual_price_id` text;