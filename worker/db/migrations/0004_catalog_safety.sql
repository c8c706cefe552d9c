CREATE TABLE `catalog_versions` (
	`version` integer PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`catalog` text NOT NULL,
	`changes` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `plans` ADD `hidden` integer DEFAULT false NOT NULL;