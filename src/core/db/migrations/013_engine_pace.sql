-- Receipts of our attempts' transactions, as the follower finds them in the solidified blocks
-- it reads anyway (block + gettransactioninfobyblocknum): the engine settles an attempt from
-- here instead of asking the node about each transaction. Written in the same transaction that
-- moves the follower's cursor past the block, so a cursor at N means every attempt stored
-- before block N was produced has its receipt here if it is in a block up to N.
CREATE TABLE attempt_receipts (
  tx_id           text PRIMARY KEY CHECK (tx_id ~ '^[0-9a-f]{64}$'),
  block_number    bigint NOT NULL CHECK (block_number >= 0),
  block_time      timestamptz NOT NULL,
  result          text NOT NULL,
  fee_sun         bigint NOT NULL,
  energy_used     bigint NOT NULL,
  energy_fee_sun  bigint NOT NULL,
  net_used        bigint NOT NULL,
  net_fee_sun     bigint NOT NULL,
  message         text,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);

-- The time of the cursor's block: how far the solidified chain is known to be past an
-- attempt's expiration without asking the node. NULL until the follower moves it once.
ALTER TABLE follower_cursor ADD COLUMN block_time timestamptz;

-- Batch completion counted, not recounted: how many of a batch's payouts are in each terminal
-- state, kept by the triggers below on every path that changes a payout's state (engine,
-- cancel, operator retry). The transaction that makes the count reach item_count closes the
-- batch; the row lock taken by the increment orders concurrent finishers, so exactly one sees
-- the last one.
ALTER TABLE payout_batches
  ADD COLUMN confirmed_count integer NOT NULL DEFAULT 0 CHECK (confirmed_count >= 0),
  ADD COLUMN failed_count    integer NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
  ADD COLUMN cancelled_count integer NOT NULL DEFAULT 0 CHECK (cancelled_count >= 0);

-- Adds `d` to the counter of `state` (a terminal state; others count nowhere) of a batch.
CREATE FUNCTION batch_count_add(p_batch text, p_state text, d integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_batch IS NULL OR p_state NOT IN ('CONFIRMED', 'FAILED', 'CANCELLED') THEN
    RETURN;
  END IF;
  UPDATE payout_batches SET
    confirmed_count = confirmed_count + CASE WHEN p_state = 'CONFIRMED' THEN d ELSE 0 END,
    failed_count    = failed_count    + CASE WHEN p_state = 'FAILED' THEN d ELSE 0 END,
    cancelled_count = cancelled_count + CASE WHEN p_state = 'CANCELLED' THEN d ELSE 0 END
  WHERE id = p_batch;
END
$$;

CREATE FUNCTION batch_count_operation_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  b text;
BEGIN
  SELECT batch_id INTO b FROM payouts WHERE id = NEW.id;
  IF b IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM batch_count_add(b, OLD.state, -1);
  PERFORM batch_count_add(b, NEW.state, 1);
  RETURN NULL;
END
$$;

-- Only changes into or out of a terminal state run the function (QUEUED → SIGNED → BROADCAST
-- do not).
CREATE TRIGGER operations_batch_count AFTER UPDATE OF state ON operations
  FOR EACH ROW
  WHEN (OLD.state IS DISTINCT FROM NEW.state
        AND (OLD.state IN ('CONFIRMED', 'FAILED', 'CANCELLED')
             OR NEW.state IN ('CONFIRMED', 'FAILED', 'CANCELLED')))
  EXECUTE FUNCTION batch_count_operation_updated();

-- A payout row inserted (or deleted, or moved between batches) for an operation already in a
-- terminal state counts (or stops counting) there.
CREATE FUNCTION batch_count_payout_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  s text;
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    SELECT state INTO s FROM operations WHERE id = OLD.id;
    PERFORM batch_count_add(OLD.batch_id, s, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT state INTO s FROM operations WHERE id = NEW.id;
    PERFORM batch_count_add(NEW.batch_id, s, 1);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER payouts_batch_count AFTER INSERT OR DELETE ON payouts
  FOR EACH ROW EXECUTE FUNCTION batch_count_payout_changed();
CREATE TRIGGER payouts_batch_moved AFTER UPDATE OF batch_id ON payouts
  FOR EACH ROW WHEN (OLD.batch_id IS DISTINCT FROM NEW.batch_id)
  EXECUTE FUNCTION batch_count_payout_changed();

-- The counts of the batches already stored (the triggers lock writers out until this commits).
UPDATE payout_batches b SET
  confirmed_count = c.confirmed, failed_count = c.failed, cancelled_count = c.cancelled
FROM (
  SELECT p.batch_id,
         count(*) FILTER (WHERE o.state = 'CONFIRMED')::int AS confirmed,
         count(*) FILTER (WHERE o.state = 'FAILED')::int AS failed,
         count(*) FILTER (WHERE o.state = 'CANCELLED')::int AS cancelled
  FROM payouts p JOIN operations o ON o.id = p.id
  WHERE p.batch_id IS NOT NULL
  GROUP BY p.batch_id
) c
WHERE c.batch_id = b.id;
