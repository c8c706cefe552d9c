CREATE TABLE `prompt_shown_counts` (
	`kind` text NOT NULL,
	`day` integer NOT NULL,
	`prev_day` integer NOT NULL,
	`accounts` integer NOT NULL,
	PRIMARY KEY(`kind`, `day`, `prev_day`)
);
--> statement-breakpoint
CREATE TABLE `prompt_shown_days` (
	`kind` text NOT NULL,
	`account_id` text NOT NULL,
	`day` integer NOT NULL,
	`prev_day` integer NOT NULL,
	PRIMARY KEY(`kind`, `account_id`, `day`)
);
--> statement-breakpoint
CREATE INDEX `prompt_shown_days_day` ON `prompt_shown_days` (`day`);