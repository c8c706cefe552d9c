-- The config token (config_version) changes on every write to what the widget state caches per isolate:
-- the catalog (metrics, features, plans), prompt definitions, the activation rule (settings key "activation")
-- and experiments. Idempotent: replaying it keeps the token and recreates the same triggers.
INSERT INTO config_version (id, token) VALUES (1, lower(hex(randomblob(8)))) ON CONFLICT (id) DO NOTHING;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_metrics_insert AFTER INSERT ON metrics BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_metrics_update AFTER UPDATE ON metrics BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_metrics_delete AFTER DELETE ON metrics BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_features_insert AFTER INSERT ON features BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_features_update AFTER UPDATE ON features BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_features_delete AFTER DELETE ON features BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_plans_insert AFTER INSERT ON plans BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_plans_update AFTER UPDATE ON plans BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_plans_delete AFTER DELETE ON plans BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_prompts_insert AFTER INSERT ON prompts BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_prompts_update AFTER UPDATE ON prompts BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_prompts_delete AFTER DELETE ON prompts BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_experiments_insert AFTER INSERT ON experiments BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_experiments_update AFTER UPDATE ON experiments BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_experiments_delete AFTER DELETE ON experiments BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_settings_insert AFTER INSERT ON settings WHEN NEW.key = 'activation' BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_settings_update AFTER UPDATE ON settings WHEN NEW.key = 'activation' OR OLD.key = 'activation' BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS config_settings_delete AFTER DELETE ON settings WHEN OLD.key = 'activation' BEGIN UPDATE config_version SET token = lower(hex(randomblob(8))) WHERE id = 1; END;
