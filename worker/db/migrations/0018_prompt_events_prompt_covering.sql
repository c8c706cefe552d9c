DROP INDEX `prompt_events_prompt`;--> statement-breakpoint
CREATE INDEX `prompt_events_prompt` ON `prompt_events` (`prompt_id`,`type`,`timestamp`,`account_id`);