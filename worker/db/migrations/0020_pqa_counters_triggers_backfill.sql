-- The PQA counters (pqa_counters, pqa_user_days, pqa_imports, pqa_custom_counts; worker/db/schema.ts)
-- kept by triggers on track_events, in the statement that inserts or deletes the event, whoever
-- writes it: POST /v1/track and its queue consumer, the widget's gate hits, usage limit hits (D1 and
-- account objects), retention's deletes. An insert that a seen idempotency key turns into nothing
-- (ON CONFLICT DO NOTHING) fires no trigger, so a retry moves nothing. Rows are never updated:
-- an update is refused, so the counters cannot drift from the events.
-- Days are integer division of the integer timestamps, as worker/pqa.ts reads them from events.
-- The kinds named below are shared/schemas.ts TRACK_EVENTS; every other name is counted in
-- pqa_custom_counts (worker/pqa.test.ts checks the list against TRACK_EVENTS).
CREATE TRIGGER IF NOT EXISTS pqa_track_insert AFTER INSERT ON track_events BEGIN
  INSERT INTO pqa_counters (account_id, max_at) VALUES (NEW.account_id, NEW.timestamp) ON CONFLICT (account_id) DO NOTHING;
  UPDATE pqa_counters SET
    max_at = max(max_at, NEW.timestamp),
    core = core + (NEW.event = 'core_feature_activated'),
    api = api + (NEW.event = 'api_integration_built'),
    admin = admin + (NEW.event = 'admin_settings_configured'),
    invites = invites + (NEW.event = 'teammate_invited'),
    limit_hit_at = CASE WHEN NEW.event = 'limit_hit' THEN max(coalesce(limit_hit_at, NEW.timestamp), NEW.timestamp) ELSE limit_hit_at END,
    gate_hit_at = CASE WHEN NEW.event = 'feature_gate_hit' THEN max(coalesce(gate_hit_at, NEW.timestamp), NEW.timestamp) ELSE gate_hit_at END,
    active_at = CASE WHEN NEW.event = 'user_active' THEN max(coalesce(active_at, NEW.timestamp), NEW.timestamp) ELSE active_at END
  WHERE account_id = NEW.account_id;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS pqa_track_insert_active AFTER INSERT ON track_events WHEN NEW.event = 'user_active' BEGIN
  INSERT INTO pqa_counters (account_id, max_at) VALUES (NEW.account_id, NEW.timestamp) ON CONFLICT (account_id) DO NOTHING;
  UPDATE pqa_counters SET
    user_days = user_days + NOT EXISTS (SELECT 1 FROM pqa_user_days d WHERE d.account_id = NEW.account_id AND d.user_key = coalesce(NEW.user_id, '') AND d.day = NEW.timestamp / 86400000),
    users = users + NOT EXISTS (SELECT 1 FROM pqa_user_days d WHERE d.account_id = NEW.account_id AND d.user_key = coalesce(NEW.user_id, '')),
    days = days + NOT EXISTS (SELECT 1 FROM pqa_user_days d WHERE d.account_id = NEW.account_id AND d.day = NEW.timestamp / 86400000)
  WHERE account_id = NEW.account_id;
  INSERT INTO pqa_user_days (account_id, user_key, day, events) VALUES (NEW.account_id, coalesce(NEW.user_id, ''), NEW.timestamp / 86400000, 1)
    ON CONFLICT (account_id, user_key, day) DO UPDATE SET events = events + 1;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS pqa_track_insert_import AFTER INSERT ON track_events
  WHEN NEW.event = 'data_imported' AND coalesce(json_type(NEW.properties, '$.rows'), 'null') IN ('null', 'integer', 'real', 'text') BEGIN
  INSERT INTO pqa_imports (account_id, key, rows_number, rows_text, events)
  SELECT NEW.account_id,
         CASE j.type WHEN 'null' THEN 'u' WHEN 'text' THEN 't' || j.value ELSE 'n' || j.value END,
         CASE WHEN j.type IN ('integer', 'real') THEN j.value END,
         CASE WHEN j.type = 'text' THEN j.value END,
         1
  FROM (SELECT coalesce(json_type(NEW.properties, '$.rows'), 'null') AS type, json_extract(NEW.properties, '$.rows') AS value) AS j WHERE true
  ON CONFLICT (account_id, key) DO UPDATE SET events = events + 1;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS pqa_track_insert_custom AFTER INSERT ON track_events
  WHEN NEW.event NOT IN ('core_feature_activated', 'user_active', 'teammate_invited', 'limit_hit', 'feature_gate_hit', 'api_integration_built', 'data_imported', 'admin_settings_configured') BEGIN
  INSERT INTO pqa_custom_counts (account_id, event, events) VALUES (NEW.account_id, NEW.event, 1)
    ON CONFLICT (account_id, event) DO UPDATE SET events = events + 1;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS pqa_track_delete AFTER DELETE ON track_events BEGIN
  UPDATE pqa_counters SET
    core = core - (OLD.event = 'core_feature_activated'),
    api = api - (OLD.event = 'api_integration_built'),
    admin = admin - (OLD.event = 'admin_settings_configured'),
    invites = invites - (OLD.event = 'teammate_invited'),
    -- Retention keeps the newest event of each kind, so these look up only when an event is deleted by hand.
    limit_hit_at = CASE WHEN OLD.event = 'limit_hit' AND OLD.timestamp >= limit_hit_at
      THEN (SELECT t.timestamp FROM track_events t WHERE t.account_id = OLD.account_id AND t.event = 'limit_hit' ORDER BY t.timestamp DESC LIMIT 1) ELSE limit_hit_at END,
    gate_hit_at = CASE WHEN OLD.event = 'feature_gate_hit' AND OLD.timestamp >= gate_hit_at
      THEN (SELECT t.timestamp FROM track_events t WHERE t.account_id = OLD.account_id AND t.event = 'feature_gate_hit' ORDER BY t.timestamp DESC LIMIT 1) ELSE gate_hit_at END,
    active_at = CASE WHEN OLD.event = 'user_active' AND OLD.timestamp >= active_at
      THEN (SELECT t.timestamp FROM track_events t WHERE t.account_id = OLD.account_id AND t.event = 'user_active' ORDER BY t.timestamp DESC LIMIT 1) ELSE active_at END,
    max_at = CASE WHEN OLD.timestamp >= max_at
      THEN coalesce((SELECT max(t.timestamp) FROM track_events t WHERE t.account_id = OLD.account_id), max_at) ELSE max_at END
  WHERE account_id = OLD.account_id;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS pqa_track_delete_active AFTER DELETE ON track_events WHEN OLD.event = 'user_active' BEGIN
  UPDATE pqa_user_days SET events = events - 1 WHERE account_id = OLD.account_id AND user_key = coalesce(OLD.user_id, '') AND day = OLD.timestamp / 86400000;
  DELETE FROM pqa_user_days WHERE account_id = OLD.account_id AND user_key = coalesce(OLD.user_id, '') AND day = OLD.timestamp / 86400000 AND events <= 0;
  UPDATE pqa_counters SET
    user_days = user_days - NOT EXISTS (SELECT 1 FROM pqa_user_days d WHERE d.account_id = OLD.account_id AND d.user_key = coalesce(OLD.user_id, '') AND d.day = OLD.timestamp / 86400000),
    users = users - NOT EXISTS (SELECT 1 FROM pqa_user_days d WHERE d.account_id = OLD.account_id AND d.user_key = coalesce(OLD.user_id, '')),
    days = days - NOT EXISTS (SELECT 1 FROM pqa_user_days d WHERE d.account_id = OLD.account_id AND d.day = OLD.timestamp / 86400000)
  WHERE account_id = OLD.account_id;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS pqa_track_delete_import AFTER DELETE ON track_events
  WHEN OLD.event = 'data_imported' AND coalesce(json_type(OLD.properties, '$.rows'), 'null') IN ('null', 'integer', 'real', 'text') BEGIN
  UPDATE pqa_imports SET events = events - 1 WHERE account_id = OLD.account_id AND key = (
    SELECT CASE j.type WHEN 'null' THEN 'u' WHEN 'text' THEN 't' || j.value ELSE 'n' || j.value END
    FROM (SELECT coalesce(json_type(OLD.properties, '$.rows'), 'null') AS type, json_extract(OLD.properties, '$.rows') AS value) AS j);
  DELETE FROM pqa_imports WHERE account_id = OLD.account_id AND events <= 0;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS pqa_track_delete_custom AFTER DELETE ON track_events
  WHEN OLD.event NOT IN ('core_feature_activated', 'user_active', 'teammate_invited', 'limit_hit', 'feature_gate_hit', 'api_integration_built', 'data_imported', 'admin_settings_configured') BEGIN
  UPDATE pqa_custom_counts SET events = events - 1 WHERE account_id = OLD.account_id AND event = OLD.event;
  DELETE FROM pqa_custom_counts WHERE account_id = OLD.account_id AND event = OLD.event AND events <= 0;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS pqa_track_immutable BEFORE UPDATE ON track_events BEGIN
  SELECT RAISE(ABORT, 'track_events rows are never updated (the PQA counters follow inserts and deletes)');
END;
--> statement-breakpoint
-- The backfill from the events already stored (idempotent: a replay writes the same rows).
DELETE FROM pqa_user_days;
--> statement-breakpoint
INSERT INTO pqa_user_days (account_id, user_key, day, events)
SELECT account_id, coalesce(user_id, ''), timestamp / 86400000, count(*) FROM track_events WHERE event = 'user_active' GROUP BY 1, 2, 3;
--> statement-breakpoint
DELETE FROM pqa_imports;
--> statement-breakpoint
INSERT INTO pqa_imports (account_id, key, rows_number, rows_text, events)
SELECT account_id,
       CASE type WHEN 'null' THEN 'u' WHEN 'text' THEN 't' || value ELSE 'n' || value END,
       CASE WHEN type IN ('integer', 'real') THEN value END,
       CASE WHEN type = 'text' THEN value END,
       count(*)
FROM (SELECT account_id, coalesce(json_type(properties, '$.rows'), 'null') AS type, json_extract(properties, '$.rows') AS value
      FROM track_events WHERE event = 'data_imported')
WHERE type IN ('null', 'integer', 'real', 'text') GROUP BY 1, 2;
--> statement-breakpoint
DELETE FROM pqa_custom_counts;
--> statement-breakpoint
INSERT INTO pqa_custom_counts (account_id, event, events)
SELECT account_id, event, count(*) FROM track_events
WHERE event NOT IN ('core_feature_activated', 'user_active', 'teammate_invited', 'limit_hit', 'feature_gate_hit', 'api_integration_built', 'data_imported', 'admin_settings_configured')
GROUP BY 1, 2;
--> statement-breakpoint
INSERT OR REPLACE INTO pqa_counters (account_id, max_at, core, api, admin, invites, limit_hit_at, gate_hit_at, active_at, user_days, users, days)
SELECT t.account_id, max(t.timestamp),
       sum(t.event = 'core_feature_activated'), sum(t.event = 'api_integration_built'), sum(t.event = 'admin_settings_configured'),
       sum(t.event = 'teammate_invited'),
       max(CASE WHEN t.event = 'limit_hit' THEN t.timestamp END),
       max(CASE WHEN t.event = 'feature_gate_hit' THEN t.timestamp END),
       max(CASE WHEN t.event = 'user_active' THEN t.timestamp END),
       coalesce((SELECT count(*) FROM pqa_user_days d WHERE d.account_id = t.account_id), 0),
       coalesce((SELECT count(DISTINCT d.user_key) FROM pqa_user_days d WHERE d.account_id = t.account_id), 0),
       coalesce((SELECT count(DISTINCT d.day) FROM pqa_user_days d WHERE d.account_id = t.account_id), 0)
FROM track_events t GROUP BY t.account_id;
