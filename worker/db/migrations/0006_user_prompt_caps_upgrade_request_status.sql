CREATE TABLE `user_prompt_caps` (
	`account_id` text NOT NULL,
	`user_id` text NOT NULL,
	`prompt_id` text NOT NULL,
	`impressions` integer NOT NULL,
	`first_shown_at` integer NOT NULL,
	`last_shown_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `user_id`, `prompt_id`)
);
--> statement-breakpoint
ALTER TABLE `upgrade_requests` ADD `user_name` text;--> statement-breakpoint
ALTER TABLE `upgrade_requests` ADD `status` text DEFAULT 'open' NOT NULL;--> statement-breakpoint
ALTER TABLE `upgrade_requests` ADD `resolved_at` integer;--> statement-breakpoint
ALTER TABLE `upgrade_requests` ADD `resolved_by` text;--> statement-breakpoint
CREATE INDEX `upgrade_requests_status` ON `upgrade_requests` (`status`,`created_at`);