CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`plan_id` text NOT NULL,
	`seats` integer NOT NULL,
	`created_at` integer NOT NULL,
	`stripe_customer_id` text,
	`stripe_subscription_id` text,
	`period_start` integer,
	`period_end` integer,
	`status` text DEFAULT 'active' NOT NULL,
	`activated_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `features` (
	`id` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL,
	`name` text NOT NULL,
	`description` text NOT NULL,
	`trial_days` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `metrics` (
	`id` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL,
	`name` text NOT NULL,
	`unit` text NOT NULL,
	`kind` text NOT NULL,
	`reset` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `plans` (
	`id` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL,
	`name` text NOT NULL,
	`rank` integer NOT NULL,
	`currency` text NOT NULL,
	`price_cents` integer NOT NULL,
	`interval` text NOT NULL,
	`stripe_price_id` text,
	`seat_price_cents` integer NOT NULL,
	`stripe_seat_price_id` text,
	`limits` text NOT NULL,
	`features` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `pqa_scores` (
	`account_id` text PRIMARY KEY NOT NULL,
	`score` integer NOT NULL,
	`band` text NOT NULL,
	`entered_band_at` integer NOT NULL,
	`top_signals` text NOT NULL,
	`computed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pqa_scores_band_score` ON `pqa_scores` (`band`,`score`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `track_events` (
	`account_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`user_id` text,
	`event` text NOT NULL,
	`timestamp` integer NOT NULL,
	`properties` text,
	`batch_id` text NOT NULL,
	PRIMARY KEY(`account_id`, `idempotency_key`)
);
--> statement-breakpoint
CREATE INDEX `track_events_account_time` ON `track_events` (`account_id`,`timestamp`);--> statement-breakpoint
CREATE INDEX `track_events_batch` ON `track_events` (`batch_id`);--> statement-breakpoint
CREATE TABLE `trials` (
	`account_id` text NOT NULL,
	`feature_id` text NOT NULL,
	`started_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `feature_id`)
);
--> statement-breakpoint
CREATE TABLE `usage_counters` (
	`account_id` text NOT NULL,
	`metric` text NOT NULL,
	`period_start` integer NOT NULL,
	`used` integer NOT NULL,
	`highest_threshold` integer,
	`set_at` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`account_id`, `metric`)
);
--> statement-breakpoint
CREATE TABLE `usage_events` (
	`account_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`metric` text NOT NULL,
	`value` integer NOT NULL,
	`mode` text NOT NULL,
	`timestamp` integer NOT NULL,
	`period_start` integer NOT NULL,
	`batch_id` text NOT NULL,
	PRIMARY KEY(`account_id`, `idempotency_key`)
);
--> statement-breakpoint
CREATE INDEX `usage_events_batch` ON `usage_events` (`batch_id`);