ALTER TABLE `upgrade_requests` ADD `user_name` text;--> statement-breakpoint
ALTER TABLE `upgrade_requests` ADD `status` text DEFAULT 'open' NOT NULL;--> statement-breakpoint
ALTER TABLE `upgrade_requests` ADD `resolved_at` integer;--> statement-breakpoint
ALTER TABLE `upgrade_requests` ADD `resolved_by` text;--> statement-breakpoint
CREATE INDEX `upgrade_requests_status` ON `upgrade_requests` (`status`,`created_at`);