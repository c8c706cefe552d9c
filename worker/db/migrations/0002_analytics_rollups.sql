CREATE TABLE `prompt_daily` (
	`day` integer NOT NULL,
	`prompt_id` text NOT NULL,
	`experiment_id` text NOT NULL,
	`variant_id` text NOT NULL,
	`account_id` text NOT NULL,
	`impressions` integer NOT NULL,
	`clicks` integer NOT NULL,
	`dismisses` integer NOT NULL,
	`snoozes` integer NOT NULL,
	PRIMARY KEY(`day`, `prompt_id`, `experiment_id`, `variant_id`, `account_id`)
);
--> statement-breakpoint
CREATE INDEX `prompt_daily_account` ON `prompt_daily` (`account_id`,`day`);--> statement-breakpoint
CREATE TABLE `rollup_state` (
	`name` text PRIMARY KEY NOT NULL,
	`last_rowid` integer NOT NULL
);
