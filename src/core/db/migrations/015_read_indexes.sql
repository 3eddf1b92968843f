-- Reads at scale: an index for each ListPayouts filter, in the listing's order (created_at,
-- id), so that a page — the first or one deep behind a cursor — reads about as many index
-- entries as it returns, whatever the number of payouts stored; and indexes for the three
-- time columns GetPayoutStats counts by.
--
-- A listing orders by the created_at of the table that holds its filter (list.ts), so a
-- payout's two rows must agree on it. They are inserted by one statement and both take now();
-- rows that disagree (an operation's created_at changed by hand) are made equal here, and the
-- trigger keeps them so: it fires only on an UPDATE that sets operations.created_at, which no
-- code path does.
UPDATE payouts p SET created_at = o.created_at
FROM operations o WHERE o.id = p.id AND p.created_at <> o.created_at;

CREATE FUNCTION payouts_created_at_follows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE payouts SET created_at = NEW.created_at WHERE id = NEW.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER operations_created_at_payouts AFTER UPDATE OF created_at ON operations
  FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
  EXECUTE FUNCTION payouts_created_at_follows();

-- Filters on operations: states, recipient_address, and a wallet's payouts in some states
-- (a wallet's FAILED ones, say: walking either the wallet's or the state's entries until 50
-- match reads all of them when few do). wallet_id alone has operations_wallet.
CREATE INDEX operations_state_created ON operations (state, created_at, id);
CREATE INDEX operations_recipient_created ON operations (counterparty_address, created_at, id);
CREATE INDEX operations_wallet_state_created ON operations (wallet_id, state, created_at, id);

-- Filters on payouts: routes, payee_tag, client_reference, batch_id (in page order, replacing
-- payouts_batch, which also serves a batch's counts); no filter and created alone use
-- payouts_created.
CREATE INDEX payouts_batch_created ON payouts (batch_id, created_at, id) WHERE batch_id IS NOT NULL;
DROP INDEX payouts_batch;
CREATE INDEX payouts_route_created ON payouts (route, created_at, id);
CREATE INDEX payouts_payee_created ON payouts (payee_tag, created_at, id) WHERE payee_tag IS NOT NULL;
CREATE INDEX payouts_reference_created ON payouts (client_reference, created_at, id)
  WHERE client_reference <> '';

-- GetPayoutStats counts failures by when they failed (their last update); created by
-- payouts_created and confirmations by operations_confirmed.
CREATE INDEX operations_failed_updated ON operations (updated_at) WHERE state = 'FAILED';
