ALTER TABLE `mrr_ledger` ADD `next_at` integer;--> statement-breakpoint
CREATE INDEX `mrr_ledger_latest` ON `mrr_ledger` (`at`,`mrr_after_cents`) WHERE next_at IS NULL;--> statement-breakpoint
CREATE INDEX `mrr_ledger_next` ON `mrr_ledger` (`next_at`) WHERE next_at IS NOT NULL;--> statement-breakpoint
-- next_at: when the account's next MRR change happened (the next row by at, then id), null for its
-- latest. Revenue reads an account's MRR at a moment t from the row with at < t whose next_at is null
-- or ≥ t, down these indexes, instead of seeking every account's last row (worker/analytics.ts).
-- Kept by the triggers below in the statement that writes the row, whoever writes it; a retried
-- insert that the dedupe key turns into nothing fires no trigger. A row's id, account and time never change.
UPDATE mrr_ledger SET next_at = (
  SELECT n.at FROM mrr_ledger n
  WHERE n.account_id = mrr_ledger.account_id AND (n.at > mrr_ledger.at OR (n.at = mrr_ledger.at AND n.id > mrr_ledger.id))
  ORDER BY n.at, n.id LIMIT 1);
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS mrr_ledger_insert_next AFTER INSERT ON mrr_ledger BEGIN
  UPDATE mrr_ledger SET next_at = (
    SELECT n.at FROM mrr_ledger n
    WHERE n.account_id = NEW.account_id AND (n.at > NEW.at OR (n.at = NEW.at AND n.id > NEW.id))
    ORDER BY n.at, n.id LIMIT 1)
  WHERE id = NEW.id;
  UPDATE mrr_ledger SET next_at = NEW.at WHERE id = (
    SELECT p.id FROM mrr_ledger p
    WHERE p.account_id = NEW.account_id AND (p.at < NEW.at OR (p.at = NEW.at AND p.id < NEW.id))
    ORDER BY p.at DESC, p.id DESC LIMIT 1);
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS mrr_ledger_delete_next AFTER DELETE ON mrr_ledger BEGIN
  UPDATE mrr_ledger SET next_at = OLD.next_at WHERE id = (
    SELECT p.id FROM mrr_ledger p
    WHERE p.account_id = OLD.account_id AND (p.at < OLD.at OR (p.at = OLD.at AND p.id < OLD.id))
    ORDER BY p.at DESC, p.id DESC LIMIT 1);
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS mrr_ledger_keep_place BEFORE UPDATE OF id, account_id, at ON mrr_ledger
WHEN NEW.id IS NOT OLD.id OR NEW.account_id IS NOT OLD.account_id OR NEW.at IS NOT OLD.at BEGIN
  SELECT RAISE(ABORT, 'mrr_ledger rows keep their id, account and time');
END;
