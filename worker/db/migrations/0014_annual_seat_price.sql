ALTER TABLE `plans` ADD `annual_seat_price_cents` integer;--> statement-breakpoint
ALTER TABLE `plans` ADD `stripe_annual_seat_price_id` text;