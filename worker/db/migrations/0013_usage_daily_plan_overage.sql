CREATE TABLE `usage_daily` (
	`account_id` text NOT NULL,
	`metric` text NOT NULL,
	`day` integer NOT NULL,
	`used` integer NOT NULL,
	PRIMARY KEY(`account_id`, `metric`, `day`)
);
--> statement-breakpoint
CREATE INDEX `usage_daily_day` ON `usage_daily` (`day`);--> statement-breakpoint
ALTER TABLE `plans` ADD `overage` text;