-- Start prompt_shown_days and prompt_shown_counts from prompt_daily (the same watermark in
-- rollup_state, so the roll-up goes on from where prompt_daily stands and no event is counted
-- twice or missed): the days each account had an impression, for any prompt ('') and per prompt
-- kind (the kind as worker/analytics.ts `promptKind` reads a prompt id), each with the account's
-- previous such day (-1 for none); then those rows counted per kind, day and previous day.
-- Idempotent: a replay rewrites the same rows.
INSERT OR REPLACE INTO prompt_shown_days (kind, account_id, day, prev_day)
SELECT kind, account_id, day, coalesce(lag(day) OVER (PARTITION BY kind, account_id ORDER BY day), -1)
FROM (
  SELECT '' AS kind, account_id, day FROM prompt_daily WHERE impressions > 0
  UNION
  SELECT CASE
      WHEN prompt_id IN ('invite-seats', 'invite-seats-blocked') THEN 'invite'
      WHEN substr(prompt_id, 1, 5) = 'gate-' AND length(prompt_id) > 5 THEN 'feature_gate'
      WHEN substr(prompt_id, 1, 6) = 'limit-' THEN 'limit_notice'
      WHEN substr(prompt_id, 1, 10) = 'milestone-' THEN 'milestone'
      ELSE 'other' END,
    account_id, day
  FROM prompt_daily WHERE impressions > 0
);
--> statement-breakpoint
DELETE FROM prompt_shown_counts;
--> statement-breakpoint
INSERT INTO prompt_shown_counts (kind, day, prev_day, accounts)
SELECT kind, day, prev_day, count(*) FROM prompt_shown_days GROUP BY kind, day, prev_day;
