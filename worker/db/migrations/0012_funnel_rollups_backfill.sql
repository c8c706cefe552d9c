-- prompt_daily was keyed by the event's exact time, not its UTC day (the day was divided by a bound
-- parameter, which SQLite receives as a REAL): compact it to one row per UTC day, then start the two new
-- roll-ups from it (same watermark in rollup_state), so no event is counted twice or missed.
-- Idempotent: a replay finds the days already whole and rewrites the same sums.
CREATE TABLE `prompt_daily_compact` AS
SELECT (CAST(day AS INTEGER) / 86400000) * 86400000 AS day, prompt_id, experiment_id, variant_id, account_id,
       sum(impressions) AS impressions, sum(clicks) AS clicks, sum(dismisses) AS dismisses, sum(snoozes) AS snoozes
FROM prompt_daily GROUP BY 1, 2, 3, 4, 5;
--> statement-breakpoint
DELETE FROM prompt_daily;
--> statement-breakpoint
INSERT INTO prompt_daily (day, prompt_id, experiment_id, variant_id, account_id, impressions, clicks, dismisses, snoozes)
SELECT day, prompt_id, experiment_id, variant_id, account_id, impressions, clicks, dismisses, snoozes FROM prompt_daily_compact;
--> statement-breakpoint
DROP TABLE `prompt_daily_compact`;
--> statement-breakpoint
INSERT INTO prompt_day_totals (day, prompt_id, experiment_id, variant_id, impressions, clicks, dismisses, snoozes)
SELECT day, prompt_id, experiment_id, variant_id, sum(impressions), sum(clicks), sum(dismisses), sum(snoozes)
FROM prompt_daily GROUP BY day, prompt_id, experiment_id, variant_id
ON CONFLICT (day, prompt_id, experiment_id, variant_id) DO UPDATE SET
  impressions = excluded.impressions, clicks = excluded.clicks, dismisses = excluded.dismisses, snoozes = excluded.snoozes;
--> statement-breakpoint
INSERT INTO prompt_account_days (day, account_id, impressions)
SELECT day, account_id, sum(impressions) FROM prompt_daily GROUP BY day, account_id HAVING sum(impressions) > 0
ON CONFLICT (day, account_id) DO UPDATE SET impressions = excluded.impressions;
