-- Webhooks: endpoints, one delivery row per (endpoint, event), and the dispatcher's cursor.

-- The transaction that wrote each outbox row. seq alone cannot be a cursor: a transaction may
-- take seq 10, commit after another took 11, and a cursor already past 11 would skip 10. Rows
-- whose txid is below the oldest running transaction (pg_snapshot_xmin) are final, so the
-- dispatcher walks (txid, seq) and never past that horizon.
ALTER TABLE outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX outbox_txid_seq ON outbox (txid, seq);

CREATE TABLE webhook_endpoints (
  id                          text PRIMARY KEY,
  url                         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  -- Delivered type strings ("payout.confirmed", "batch.completed", ...).
  event_types                 text[] NOT NULL CHECK (cardinality(event_types) >= 1),
  description                 text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  state                       text NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'DISABLED', 'FAILING')),
  -- Signing secrets, AES-256-GCM under core's webhook secret key (see webhooks/secret-box.ts).
  secret_enc                  bytea NOT NULL,
  secret_created_at           timestamptz NOT NULL DEFAULT now(),
  previous_secret_enc         bytea,
  previous_secret_expires_at  timestamptz,
  consecutive_failures        integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  last_success_at             timestamptz,
  created_by                  text NOT NULL,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  CHECK ((previous_secret_enc IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX webhook_endpoints_created ON webhook_endpoints (created_at, id);

CREATE TABLE webhook_deliveries (
  id                  text PRIMARY KEY,
  endpoint_id         text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id            text NOT NULL REFERENCES outbox (event_id),
  event_seq           bigint NOT NULL,
  event_type          text NOT NULL,
  subject_id          text NOT NULL,
  status              text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
  attempt_count       integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
  last_response_code  integer NOT NULL DEFAULT 0,
  last_error          text NOT NULL DEFAULT '',
  last_attempt_at     timestamptz,
  next_attempt_at     timestamptz NOT NULL DEFAULT now(),
  -- Retries stop this long after retry_from (reset by a redelivery).
  retry_from          timestamptz NOT NULL DEFAULT now(),
  created_at          timestamptz NOT NULL DEFAULT now(),
  -- At least once, but never queued twice for one endpoint.
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
-- In order per subject: the claim looks for an earlier pending delivery of the same subject.
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (endpoint_id, subject_id, event_seq)
  WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at, id);

CREATE TABLE webhook_dispatch_cursor (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_txid  xid8 NOT NULL,
  last_seq   bigint NOT NULL
);
INSERT INTO webhook_dispatch_cursor (last_txid, last_seq) VALUES ('0'::xid8, 0);
