-- Access tokens core issued (IssueToken/RefreshToken), one row per token. The JWT itself is
-- never stored; its refresh token ("tprt_<jti>_<secret>") is stored as sha256 of the secret.
-- A refresh token is single use: refreshed_at is set when it is exchanged.
CREATE TABLE issued_tokens (
  jti                 text PRIMARY KEY CHECK (jti ~ '^[0-9a-f]{32}$'),
  subject             text NOT NULL,
  api_key_id          text NOT NULL REFERENCES api_keys (id),
  roles               text[] NOT NULL CHECK (
                        cardinality(roles) >= 1
                        AND roles <@ ARRAY['admin', 'operator', 'approver', 'auditor', 'service']::text[]
                      ),
  issued_at           timestamptz NOT NULL,
  expires_at          timestamptz NOT NULL,
  refresh_hash        bytea NOT NULL CHECK (length(refresh_hash) = 32),
  refresh_expires_at  timestamptz NOT NULL,
  refreshed_at        timestamptz,
  revoked_at          timestamptz,
  revoked_reason      text
);
CREATE INDEX issued_tokens_api_key ON issued_tokens (api_key_id) WHERE revoked_at IS NULL;
CREATE INDEX issued_tokens_live_revoked ON issued_tokens (expires_at) WHERE revoked_at IS NOT NULL;
