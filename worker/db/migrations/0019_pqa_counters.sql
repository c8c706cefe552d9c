CREATE TABLE `pqa_counters` (
	`account_id` text PRIMARY KEY NOT NULL,
	`max_at` integer NOT NULL,
	`core` integer DEFAULT 0 NOT NULL,
	`api` integer DEFAULT 0 NOT NULL,
	`admin` integer DEFAULT 0 NOT NULL,
	`invites` integer DEFAULT 0 NOT NULL,
	`limit_hit_at` integer,
	`gate_hit_at` integer,
	`active_at` integer,
	`user_days` integer DEFAULT 0 NOT NULL,
	`users` integer DEFAULT 0 NOT NULL,
	`days` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `pqa_custom_counts` (
	`account_id` text NOT NULL,
	`event` text NOT NULL,
	`events` integer NOT NULL,
	PRIMARY KEY(`account_id`, `event`)
);
--> statement-breakpoint
CREATE TABLE `pqa_imports` (
	`account_id` text NOT NULL,
	`key` text NOT NULL,
	`rows_number` real,
	`rows_text` text,
	`events` integer NOT NULL,
	PRIMARY KEY(`account_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `pqa_user_days` (
	`account_id` text NOT NULL,
	`user_key` text NOT NULL,
	`day` integer NOT NULL,
	`events` integer NOT NULL,
	PRIMARY KEY(`account_id`, `user_key`, `day`)
);
--> statement-breakpoint
CREATE INDEX `pqa_user_days_day` ON `pqa_user_days` (`account_id`,`day`);