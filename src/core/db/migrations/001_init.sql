-- tronpay core schema, version 1. Forward-only: never edit a migration that has landed;
-- add a new file. Amounts are integers of base units (sun, or 10^-6 USDT); never floats.
-- The invariants that keep money safe are enforced here, not only in code.

-- Wallets: our own addresses; the keys live only in the signer.
CREATE TABLE wallets (
  id               text PRIMARY KEY,
  address          text NOT NULL UNIQUE CHECK (address ~ '^T[1-9A-HJ-NP-Za-km-z]{33}$'),
  label            text NOT NULL,
  purpose          text NOT NULL CHECK (purpose IN ('HOT', 'PAYOUT', 'FEE', 'STAKING')),
  derivation_path  text NOT NULL DEFAULT '',
  imported         boolean NOT NULL DEFAULT false,
  created_by       text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- Named payees (address book). A changed address is usable for DIRECT payouts only after
-- address_usable_at (cooling-off).
CREATE TABLE payees (
  tag                text PRIMARY KEY CHECK (tag ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  display_name       text NOT NULL DEFAULT '',
  address            text NOT NULL CHECK (address ~ '^T[1-9A-HJ-NP-Za-km-z]{33}$'),
  kyc_status         text NOT NULL DEFAULT 'NONE' CHECK (kyc_status IN ('NONE', 'PENDING', 'VERIFIED', 'REJECTED')),
  allowlisted        boolean NOT NULL DEFAULT false,
  address_usable_at  timestamptz NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  deleted_at         timestamptz
);

-- Idempotency: the first answer for (principal, key) is stored and returned again. The row is
-- written in the same transaction as the work it answers for, so a concurrent duplicate waits
-- on the primary key until the first commits, then reads its answer.
CREATE TABLE idempotency_keys (
  principal     text NOT NULL,
  key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  method        text NOT NULL,
  request_hash  bytea NOT NULL,
  response      bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE payout_batches (
  id               text PRIMARY KEY,
  principal        text NOT NULL,
  idempotency_key  text NOT NULL,
  item_count       integer NOT NULL CHECK (item_count BETWEEN 1 AND 1000),
  state            text NOT NULL DEFAULT 'PROCESSING'
                     CHECK (state IN ('PROCESSING', 'COMPLETED', 'PARTIALLY_FAILED', 'FAILED', 'CANCELLED')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  UNIQUE (principal, idempotency_key)
);

-- Operations: every write to the chain (a payout, a USDT approve, a stake, ...) is one row,
-- driven by one engine. States and their transitions are listed in engine/state.ts; the
-- CHECK keeps out anything else.
CREATE TABLE operations (
  id                    text PRIMARY KEY,
  kind                  text NOT NULL CHECK (kind IN ('PAYOUT', 'USDT_TRANSFER', 'USDT_APPROVE', 'STAKE', 'UNSTAKE',
                                                       'DELEGATE', 'UNDELEGATE', 'WITHDRAW_UNSTAKED')),
  state                 text NOT NULL CHECK (state IN ('QUEUED', 'AWAITING_APPROVAL', 'HELD', 'SIGNED', 'BROADCAST',
                                                        'CONFIRMED', 'FAILED', 'CANCELLED')),
  asset                 text NOT NULL CHECK (asset IN ('TRX', 'USDT')),
  amount                bigint NOT NULL CHECK (amount >= 0),
  wallet_id             text NOT NULL REFERENCES wallets (id),
  owner_address         text NOT NULL,
  counterparty_address  text NOT NULL DEFAULT '',
  resource              text CHECK (resource IN ('BANDWIDTH', 'ENERGY')),
  lock_period_blocks    bigint NOT NULL DEFAULT 0 CHECK (lock_period_blocks >= 0),
  memo                  text NOT NULL DEFAULT '',
  priority              smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 4),
  hold_reason           text,
  failure_reason        text,
  failure_detail        text,
  next_run_at           timestamptz NOT NULL DEFAULT now(),
  created_by            text NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  confirmed_at          timestamptz,
  -- What the chain charged, read back from the receipt.
  fee_sun               bigint CHECK (fee_sun >= 0),
  energy_used           bigint CHECK (energy_used >= 0),
  bandwidth_used        bigint CHECK (bandwidth_used >= 0),
  activated_recipient   boolean,
  CHECK ((state = 'CONFIRMED') = (confirmed_at IS NOT NULL)),
  CHECK (state <> 'HELD' OR hold_reason IS NOT NULL),
  CHECK (state <> 'FAILED' OR failure_reason IS NOT NULL)
);
-- The engine's queue: live operations by urgency, then age.
CREATE INDEX operations_work ON operations (next_run_at, priority DESC, created_at)
  WHERE state IN ('QUEUED', 'HELD', 'SIGNED', 'BROADCAST');
CREATE INDEX operations_wallet ON operations (wallet_id, created_at);

-- Payout details of PAYOUT operations (one row per payout, same id).
CREATE TABLE payouts (
  id                    text PRIMARY KEY REFERENCES operations (id),
  principal             text NOT NULL,
  idempotency_key       text,
  route                 text NOT NULL CHECK (route IN ('V0', 'KYC', 'DIRECT')),
  payee_tag             text REFERENCES payees (tag),
  client_reference      text NOT NULL DEFAULT '',
  metadata              jsonb NOT NULL DEFAULT '{}',
  kyc_hash              text,
  batch_id              text REFERENCES payout_batches (id),
  batch_index           integer,
  batch_item_reference  text NOT NULL DEFAULT '',
  approval_required     boolean NOT NULL DEFAULT false,
  approved_by           text,
  approved_at           timestamptz,
  cancel_reason         text,
  service_fee           bigint NOT NULL DEFAULT 0 CHECK (service_fee >= 0),
  created_at            timestamptz NOT NULL DEFAULT now(),
  -- One payout per idempotency key and principal (batch items carry the batch's key instead).
  UNIQUE (principal, idempotency_key),
  UNIQUE (batch_id, batch_index),
  CHECK ((batch_id IS NULL) = (batch_index IS NULL)),
  CHECK ((batch_id IS NULL) = (idempotency_key IS NOT NULL)),
  CHECK (route <> 'KYC' OR kyc_hash IS NOT NULL),
  CHECK (approved_by IS NULL OR approved_by <> principal)
);
CREATE INDEX payouts_created ON payouts (created_at, id);
CREATE INDEX payouts_batch ON payouts (batch_id) WHERE batch_id IS NOT NULL;

-- Attempts: signed transactions. Stored before they are broadcast.
CREATE TABLE attempts (
  id                    bigserial PRIMARY KEY,
  operation_id          text NOT NULL REFERENCES operations (id),
  attempt_no            integer NOT NULL CHECK (attempt_no >= 1),
  tx_id                 text NOT NULL UNIQUE CHECK (tx_id ~ '^[0-9a-f]{64}$'),
  raw_data              bytea NOT NULL,
  signature             bytea NOT NULL CHECK (length(signature) = 65),
  expiration            timestamptz NOT NULL,
  fee_limit             bigint NOT NULL DEFAULT 0,
  state                 text NOT NULL CHECK (state IN ('SIGNED', 'BROADCAST', 'INCLUDED', 'EXPIRED', 'FAILED')),
  broadcast_count       integer NOT NULL DEFAULT 0,
  last_broadcast_at     timestamptz,
  last_broadcast_error  text,
  block_number          bigint,
  receipt_result        text,
  signed_at             timestamptz NOT NULL DEFAULT now(),
  UNIQUE (operation_id, attempt_no)
);
-- At most one attempt per operation that could still be (or has been) included: the rule that
-- prevents a double payout, held by the database even if code is wrong.
CREATE UNIQUE INDEX attempts_one_live ON attempts (operation_id) WHERE state IN ('SIGNED', 'BROADCAST', 'INCLUDED');

-- Four-eyes approvals.
CREATE TABLE approvals (
  operation_id  text NOT NULL REFERENCES operations (id),
  principal     text NOT NULL,
  decided_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operation_id, principal)
);

-- Outbox: events written in the same transaction as the change they describe; webhooks and
-- streams read from here.
CREATE TABLE outbox (
  seq           bigserial PRIMARY KEY,
  event_id      text NOT NULL UNIQUE,
  type          text NOT NULL,
  subject_id    text NOT NULL,
  payload       jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_subject ON outbox (subject_id, seq);

-- Audit log: append-only and hash-chained; audit_head holds the chain's tip so that appends
-- are serialized by its row lock.
CREATE TABLE audit_log (
  seq         bigint PRIMARY KEY,
  time        timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  action      text NOT NULL,
  subject     text NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}',
  prev_hash   text NOT NULL,
  hash        text NOT NULL UNIQUE
);
CREATE TABLE audit_head (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq         bigint NOT NULL,
  hash        text NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, repeat('0', 64));

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Operator switches (e.g. payouts paused).
CREATE TABLE settings (
  key         text PRIMARY KEY,
  value       jsonb NOT NULL,
  updated_by  text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
