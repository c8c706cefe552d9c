CREATE TABLE `billing_state` (
	`account_id` text PRIMARY KEY NOT NULL,
	`stripe_object_updated_at` integer NOT NULL,
	`mrr_cents` integer NOT NULL,
	`churned` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE `experiment_exposures` (
	`experiment_id` text NOT NULL,
	`unit_id` text NOT NULL,
	`account_id` text NOT NULL,
	`variant_id` text,
	`first_exposed_at` integer NOT NULL,
	PRIMARY KEY(`experiment_id`, `unit_id`)
);
--> statement-breakpoint
CREATE INDEX `experiment_exposures_account` ON `experiment_exposures` (`account_id`);--> statement-breakpoint
CREATE TABLE `experiments` (
	`id` text PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`prompt_id` text NOT NULL,
	`unit` text NOT NULL,
	`holdout_pct` integer NOT NULL,
	`attribution_days` integer NOT NULL,
	`min_conversions` integer NOT NULL,
	`variants` text NOT NULL,
	`status` text NOT NULL,
	`started_at` integer,
	`stopped_at` integer,
	`shipped_variant_id` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `experiments_key_unique` ON `experiments` (`key`);--> statement-breakpoint
CREATE TABLE `invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`provider` text NOT NULL,
	`amount_cents` integer NOT NULL,
	`currency` text NOT NULL,
	`status` text NOT NULL,
	`description` text NOT NULL,
	`proration_date` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `invoices_account` ON `invoices` (`account_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `mrr_ledger` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`mrr_before_cents` integer NOT NULL,
	`mrr_after_cents` integer NOT NULL,
	`source` text NOT NULL,
	`prompt_id` text,
	`variant_id` text,
	`experiment_id` text,
	`dedupe_key` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mrr_ledger_dedupe_key_unique` ON `mrr_ledger` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `mrr_ledger_at` ON `mrr_ledger` (`at`);--> statement-breakpoint
CREATE INDEX `mrr_ledger_account` ON `mrr_ledger` (`account_id`,`at`);--> statement-breakpoint
CREATE TABLE `prompt_events` (
	`account_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`user_id` text NOT NULL,
	`session_id` text NOT NULL,
	`type` text NOT NULL,
	`prompt_id` text,
	`variant_id` text,
	`experiment_id` text,
	`feature_id` text,
	`timestamp` integer NOT NULL,
	PRIMARY KEY(`account_id`, `idempotency_key`)
);
--> statement-breakpoint
CREATE INDEX `prompt_events_user` ON `prompt_events` (`account_id`,`user_id`,`timestamp`);--> statement-breakpoint
CREATE INDEX `prompt_events_prompt` ON `prompt_events` (`prompt_id`,`type`,`timestamp`);--> statement-breakpoint
CREATE TABLE `prompts` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`trigger` text NOT NULL,
	`caps` text NOT NULL,
	`copy` text NOT NULL,
	`enabled` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `stripe_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`created` integer NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `upgrade_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`user_id` text NOT NULL,
	`plan_id` text,
	`seats` integer,
	`note` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `upgrade_requests_account` ON `upgrade_requests` (`account_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `upgrades` (
	`account_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`user_id` text NOT NULL,
	`intent` text NOT NULL,
	`status` text NOT NULL,
	`result` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `idempotency_key`)
);
--> statement-breakpoint
CREATE TABLE `webhook_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`webhook_id` text NOT NULL,
	`event` text NOT NULL,
	`dedupe_key` text NOT NULL,
	`payload` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`delivered_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_outbox_dedupe` ON `webhook_outbox` (`webhook_id`,`dedupe_key`);--> statement-breakpoint
CREATE INDEX `webhook_outbox_due` ON `webhook_outbox` (`delivered_at`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`format` text NOT NULL,
	`events` text NOT NULL,
	`secret` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
