-- Data migration (issue 20, "no implicit unlimited"): a plan that did not list a metric gave
-- it unlimited. Every plan now lists every metric and Ladder reads an unlisted limit as 0, so
-- write an explicit null (unlimited) for each metric a stored plan omits: accounts keep
-- exactly the limits they had. Idempotent: a plan that lists every metric is left alone.
UPDATE plans SET limits = (
  SELECT json_group_object(key, value) FROM (
    SELECT key, value FROM json_each(plans.limits)
    UNION ALL
    SELECT m.id, NULL FROM metrics m WHERE json_type(plans.limits, '$."' || m.id || '"') IS NULL
  )
)
WHERE EXISTS (SELECT 1 FROM metrics m WHERE json_type(plans.limits, '$."' || m.id || '"') IS NULL);
