CREATE TABLE `user_prompt_caps` (
	`account_id` text NOT NULL,
	`user_id` text NOT NULL,
	`prompt_id` text NOT NULL,
	`impressions` integer NOT NULL,
	`first_shown_at` integer NOT NULL,
	`last_shown_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `user_id`, `prompt_id`)
);
