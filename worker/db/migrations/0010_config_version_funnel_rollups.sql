CREATE TABLE `config_version` (
	`id` integer PRIMARY KEY NOT NULL,
	`token` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `prompt_account_days` (
	`day` integer NOT NULL,
	`account_id` text NOT NULL,
	`impressions` integer NOT NULL,
	PRIMARY KEY(`day`, `account_id`)
);
--> statement-breakpoint
CREATE INDEX `prompt_account_days_account` ON `prompt_account_days` (`account_id`,`day`);--> statement-breakpoint
CREATE TABLE `prompt_day_totals` (
	`day` integer NOT NULL,
	`prompt_id` text NOT NULL,
	`experiment_id` text NOT NULL,
	`variant_id` text NOT NULL,
	`impressions` integer NOT NULL,
	`clicks` integer NOT NULL,
	`dismisses` integer NOT NULL,
	`snoozes` integer NOT NULL,
	PRIMARY KEY(`day`, `prompt_id`, `experiment_id`, `variant_id`)
);
