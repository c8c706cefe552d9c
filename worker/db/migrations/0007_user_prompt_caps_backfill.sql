-- Impressions already in prompt_events count toward the caps that hold for good.
INSERT INTO `user_prompt_caps` (`account_id`, `user_id`, `prompt_id`, `impressions`, `first_shown_at`, `last_shown_at`)
SELECT `account_id`, `user_id`, `prompt_id`, count(*), min(`timestamp`), max(`timestamp`)
FROM `prompt_events`
WHERE `type` = 'impression' AND `prompt_id` IS NOT NULL
GROUP BY `account_id`, `user_id`, `prompt_id`;
