-- A new payout is counted on its day's counter (daily_usage, migration 012) when its
-- transaction commits, by a deferred constraint trigger, instead of when its row is inserted.
-- Every create of a route and asset updates the same counter row, and a row lock is held until
-- COMMIT: taken at insert time it was held through the rest of the create's statements and the
-- round trips between them, and concurrent creates queued behind it. Taken at commit it is held
-- only while the transaction commits.
--
-- A create that is to stay within a daily limit sets the transaction-local setting
-- tronpay.daily_max_<route> (set_config(..., true)) to the limit in base units; the commit then
-- fails when the counter, with this payout counted, is above it: SQLSTATE TP001 (raised by our
-- SQL, message the error reason, detail the human message, hint the metadata as JSON), so
-- nothing of the create is stored. Creates queue on the row at commit, each seeing the counts of
-- those before it: the limit is exact under concurrency. Without the setting (batches, which
-- check every route and asset under the row lock first) the commit only counts.
--
-- Until the commit counts it, a payout inserted in the transaction is listed in the
-- transaction-local setting tronpay.uncounted; the triggers that move a counted amount (012's
-- update and delete triggers) leave such a payout alone, and the commit counts it as it then is.

CREATE FUNCTION daily_usage_uncounted(p_id text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT position(' ' || p_id || ' ' IN coalesce(current_setting('tronpay.uncounted', true), '')) > 0
$$;

DROP TRIGGER payouts_daily_usage ON payouts;
DROP FUNCTION daily_usage_payout_inserted();

-- One statement-level trigger per insert statement, so that a statement storing many payouts
-- (a seed, an INSERT … SELECT) extends the list once.
CREATE FUNCTION daily_usage_payouts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids text;
BEGIN
  SELECT string_agg(id, ' ') INTO ids FROM inserted;
  IF ids IS NOT NULL THEN
    PERFORM set_config('tronpay.uncounted',
      coalesce(nullif(current_setting('tronpay.uncounted', true), ''), ' ') || ids || ' ', true);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER payouts_daily_usage AFTER INSERT ON payouts
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION daily_usage_payouts_inserted();

-- At commit: the payout as it is then (deleted, CANCELLED or FAILED by then: nothing to count).
CREATE FUNCTION daily_usage_payout_committed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  p_route text;
  op record;
  used_now bigint;
  max_text text;
BEGIN
  SELECT route INTO p_route FROM payouts WHERE id = NEW.id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT state, asset, amount, created_at INTO op FROM operations WHERE id = NEW.id;
  IF NOT FOUND OR op.state IN ('CANCELLED', 'FAILED') THEN
    RETURN NULL;
  END IF;
  INSERT INTO daily_usage (route, asset, day, used)
  VALUES (p_route, op.asset, (op.created_at AT TIME ZONE 'UTC')::date, op.amount)
  ON CONFLICT (route, asset, day) DO UPDATE SET used = daily_usage.used + EXCLUDED.used
  RETURNING used INTO used_now;
  max_text := nullif(current_setting('tronpay.daily_max_' || lower(p_route), true), '');
  IF max_text IS NOT NULL AND used_now > max_text::bigint THEN
    RAISE EXCEPTION USING
      ERRCODE = 'TP001',
      MESSAGE = 'payout.limit_exceeded',
      DETAIL = format('this would exceed today''s %s limit for %s', p_route, op.asset),
      HINT = json_build_object('field', '', 'limit', 'per_day', 'route', p_route)::text;
  END IF;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER payouts_daily_usage_at_commit AFTER INSERT ON payouts
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION daily_usage_payout_committed();

-- 012's functions, leaving a payout that is not counted yet to the commit.
CREATE OR REPLACE FUNCTION daily_usage_operation_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payout_route text;
BEGIN
  IF daily_usage_uncounted(NEW.id) THEN
    RETURN NULL;
  END IF;
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

CREATE OR REPLACE FUNCTION daily_usage_route_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  op record;
BEGIN
  IF daily_usage_uncounted(NEW.id) THEN
    RETURN NULL;
  END IF;
  SELECT state, asset, amount, created_at INTO op FROM operations WHERE id = NEW.id;
  IF FOUND AND op.state NOT IN ('CANCELLED', 'FAILED') THEN
    PERFORM daily_usage_add(OLD.route, op.asset, op.created_at, -op.amount);
    PERFORM daily_usage_add(NEW.route, op.asset, op.created_at, op.amount);
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION daily_usage_payout_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  op record;
BEGIN
  IF daily_usage_uncounted(OLD.id) THEN
    RETURN NULL;
  END IF;
  SELECT state, asset, amount, created_at INTO op FROM operations WHERE id = OLD.id;
  IF FOUND AND op.state NOT IN ('CANCELLED', 'FAILED') THEN
    PERFORM daily_usage_add(OLD.route, op.asset, op.created_at, -op.amount);
  END IF;
  RETURN NULL;
END
$$;
