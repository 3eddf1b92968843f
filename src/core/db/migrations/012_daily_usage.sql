-- What each route has used of its daily limit, per asset and UTC day: the sum of the amounts
-- of the payouts created that day (created_at in UTC) that are not CANCELLED or FAILED. It is
-- exactly what the old per-request sum over the day's payouts computed, kept up to date by the
-- triggers below on every path that changes it (create, cancel, failure, retry, any UPDATE),
-- so the limit check reads and locks one row instead of summing the day under a lock.
CREATE TABLE daily_usage (
  route  text NOT NULL CHECK (route IN ('V0', 'KYC', 'DIRECT')),
  asset  text NOT NULL CHECK (asset IN ('TRX', 'USDT')),
  day    date NOT NULL,
  used   bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (route, asset, day)
);

-- Adds `amount` to one counter row, creating it when missing; a negative amount (a payout that
-- stops counting) only updates: its row exists since the payout was counted there. (An upsert
-- cannot subtract: the CHECK applies to the row proposed for insertion.)
CREATE FUNCTION daily_usage_add(p_route text, p_asset text, p_at timestamptz, p_amount bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_amount < 0 THEN
    UPDATE daily_usage SET used = used + p_amount
    WHERE route = p_route AND asset = p_asset AND day = (p_at AT TIME ZONE 'UTC')::date;
  ELSE
    INSERT INTO daily_usage (route, asset, day, used)
    VALUES (p_route, p_asset, (p_at AT TIME ZONE 'UTC')::date, p_amount)
    ON CONFLICT (route, asset, day) DO UPDATE SET used = daily_usage.used + EXCLUDED.used;
  END IF;
END
$$;

-- A new payout row counts its operation's amount (the operation row is inserted first).
CREATE FUNCTION daily_usage_payout_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  op record;
BEGIN
  SELECT state, asset, amount, created_at INTO op FROM operations WHERE id = NEW.id;
  IF FOUND AND op.state NOT IN ('CANCELLED', 'FAILED') THEN
    PERFORM daily_usage_add(NEW.route, op.asset, op.created_at, op.amount);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER payouts_daily_usage AFTER INSERT ON payouts
  FOR EACH ROW EXECUTE FUNCTION daily_usage_payout_inserted();

-- An operation that starts or stops counting (CANCELLED/FAILED and back), or whose amount,
-- asset or day changes, moves its amount between counters. Operations that are not payouts
-- have no payouts row and count nowhere.
CREATE FUNCTION daily_usage_operation_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payout_route text;
BEGIN
  SELECT route INTO payout_route FROM payouts WHERE id = NEW.id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF OLD.state NOT IN ('CANCELLED', 'FAILED') THEN
    PERFORM daily_usage_add(payout_route, OLD.asset, OLD.created_at, -OLD.amount);
  END IF;
  IF NEW.state NOT IN ('CANCELLED', 'FAILED') THEN
    PERFORM daily_usage_add(payout_route, NEW.asset, NEW.created_at, NEW.amount);
  END IF;
  RETURN NULL;
END
$$;

-- The WHEN clause keeps the engine's ordinary transitions (QUEUED → SIGNED → BROADCAST →
-- CONFIRMED) from running the function at all.
CREATE TRIGGER operations_daily_usage AFTER UPDATE OF state, amount, asset, created_at ON operations
  FOR EACH ROW
  WHEN ((OLD.state IN ('CANCELLED', 'FAILED')) IS DISTINCT FROM (NEW.state IN ('CANCELLED', 'FAILED'))
        OR OLD.amount IS DISTINCT FROM NEW.amount
        OR OLD.asset IS DISTINCT FROM NEW.asset
        OR OLD.created_at IS DISTINCT FROM NEW.created_at)
  EXECUTE FUNCTION daily_usage_operation_updated();

-- A payout that changes route moves its amount between routes.
CREATE FUNCTION daily_usage_route_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  op record;
BEGIN
  SELECT state, asset, amount, created_at INTO op FROM operations WHERE id = NEW.id;
  IF FOUND AND op.state NOT IN ('CANCELLED', 'FAILED') THEN
    PERFORM daily_usage_add(OLD.route, op.asset, op.created_at, -op.amount);
    PERFORM daily_usage_add(NEW.route, op.asset, op.created_at, op.amount);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER payouts_route_daily_usage AFTER UPDATE OF route ON payouts
  FOR EACH ROW WHEN (OLD.route IS DISTINCT FROM NEW.route)
  EXECUTE FUNCTION daily_usage_route_updated();

-- A deleted payout stops counting (payout rows go before their operation rows).
CREATE FUNCTION daily_usage_payout_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  op record;
BEGIN
  SELECT state, asset, amount, created_at INTO op FROM operations WHERE id = OLD.id;
  IF FOUND AND op.state NOT IN ('CANCELLED', 'FAILED') THEN
    PERFORM daily_usage_add(OLD.route, op.asset, op.created_at, -op.amount);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER payouts_deleted_daily_usage AFTER DELETE ON payouts
  FOR EACH ROW EXECUTE FUNCTION daily_usage_payout_deleted();

-- TRUNCATE fires no row triggers: emptying the payouts empties the counters.
CREATE FUNCTION daily_usage_payouts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE daily_usage;
  RETURN NULL;
END
$$;

CREATE TRIGGER payouts_truncated_daily_usage AFTER TRUNCATE ON payouts
  FOR EACH STATEMENT EXECUTE FUNCTION daily_usage_payouts_truncated();

-- The counters of the payouts already stored, every day: a cancel or a retry of an older
-- payout moves its own day's counter, which must not start from zero. The triggers above lock
-- the tables against writers until this migration commits, so nothing is missed or counted twice.
INSERT INTO daily_usage (route, asset, day, used)
SELECT p.route, o.asset, (o.created_at AT TIME ZONE 'UTC')::date, sum(o.amount)::bigint
FROM operations o JOIN payouts p ON p.id = o.id
WHERE o.state NOT IN ('CANCELLED', 'FAILED')
GROUP BY 1, 2, 3;
