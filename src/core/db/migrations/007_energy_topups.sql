-- The energy top-up policy's decision per batch: at most one row per batch (the primary key is
-- the policy's idempotency key), so a retry, a restart or a second replica cannot delegate
-- twice for the same batch. PENDING until decided; a claim lease keeps one process deciding.
CREATE TABLE energy_topups (
  batch_id          text PRIMARY KEY REFERENCES payout_batches (id),
  -- The payout wallet topped up (the delegation's receiver) and the lending staking wallet.
  wallet_id         text NOT NULL REFERENCES wallets (id),
  staking_wallet_id text NOT NULL REFERENCES wallets (id),
  state             text NOT NULL DEFAULT 'PENDING'
                      CHECK (state IN ('PENDING', 'DELEGATED', 'NO_SHORTFALL', 'COOLDOWN', 'NO_STAKE',
                                       'CHAIN_ERROR')),
  operation_id      text UNIQUE REFERENCES operations (id),
  estimated_energy  bigint CHECK (estimated_energy >= 0),
  available_energy  bigint CHECK (available_energy >= 0),
  amount            bigint NOT NULL DEFAULT 0 CHECK (amount >= 0),
  claimed_until     timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  decided_at        timestamptz,
  CHECK ((state = 'DELEGATED') = (operation_id IS NOT NULL)),
  CHECK ((state = 'PENDING') = (decided_at IS NULL))
);
CREATE INDEX energy_topups_wallet ON energy_topups (wallet_id, decided_at DESC);
