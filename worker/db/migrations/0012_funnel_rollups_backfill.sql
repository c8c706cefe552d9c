-- The two new roll-ups start from what prompt_daily already counts (same watermark in rollup_state),
-- so no event is counted twice or missed. Idempotent: a replay rewrites the same sums.
INSERT INTO prompt_day_totals (day, prompt_id, experiment_id, variant_id, impressions, clicks, dismisses, snoozes)
SELECT day, prompt_id, experiment_id, variant_id, sum(impressions), sum(clicks), sum(dismisses), sum(snoozes)
FROM prompt_daily GROUP BY day, prompt_id, experiment_id, variant_id
ON CONFLICT (day, prompt_id, experiment_id, variant_id) DO UPDATE SET
  impressions = excluded.impressions, clicks = excluded.clicks, dismisses = excluded.dismisses, snoozes = excluded.snoozes;
--> statement-breakpoint
INSERT INTO prompt_account_days (day, account_id, impressions)
SELECT day, account_id, sum(impressions) FROM prompt_daily GROUP BY day, account_id HAVING sum(impressions) > 0
ON CONFLICT (day, account_id) DO UPDATE SET impressions = excluded.impressions;
