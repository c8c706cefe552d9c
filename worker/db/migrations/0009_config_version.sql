CREATE TABLE `config_version` (
	`id` integer PRIMARY KEY NOT NULL,
	`token` text NOT NULL
);
