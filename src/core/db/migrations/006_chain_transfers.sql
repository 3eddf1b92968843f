-- Transfers touching our wallets, found by the block follower in solidified blocks. One row per
-- TRX transfer or USDT Transfer event; the unique key makes a rescan after a crash harmless.
CREATE TABLE chain_transfers (
  id             bigserial PRIMARY KEY,
  asset          text NOT NULL CHECK (asset IN ('TRX', 'USDT')),
  tx_id          text NOT NULL CHECK (tx_id ~ '^[0-9a-f]{64}$'),
  log_index      integer NOT NULL CHECK (log_index >= 0),
  block_number   bigint NOT NULL CHECK (block_number >= 0),
  block_time     timestamptz NOT NULL,
  from_address   text NOT NULL CHECK (from_address ~ '^T[1-9A-HJ-NP-Za-km-z]{33}$'),
  to_address     text NOT NULL CHECK (to_address ~ '^T[1-9A-HJ-NP-Za-km-z]{33}$'),
  amount         numeric(78, 0) NOT NULL CHECK (amount >= 0),
  result         text NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (asset, tx_id, log_index)
);
CREATE INDEX chain_transfers_from ON chain_transfers (from_address, block_number DESC);
CREATE INDEX chain_transfers_to ON chain_transfers (to_address, block_number DESC);

-- The follower's position: the last solidified block whose transfers are all recorded. It is
-- moved in the same transaction as the rows of that block.
CREATE TABLE follower_cursor (
  name          text PRIMARY KEY,
  block_number  bigint NOT NULL CHECK (block_number >= 0),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
