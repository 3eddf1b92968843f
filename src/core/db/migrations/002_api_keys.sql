-- API keys: "tp_<id>_<secret>". Only a hash of the secret is stored, so a leaked table does
-- not leak working keys. The secret is 32 random bytes (base64url), not a password: nobody
-- can guess it, so a fast hash (sha256) is the right tool and a slow KDF would only add
-- latency to every request.
CREATE TABLE api_keys (
  id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
  roles         text[] NOT NULL CHECK (
                  cardinality(roles) >= 1
                  AND roles <@ ARRAY['admin', 'operator', 'approver', 'auditor', 'service']::text[]
                ),
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  revoked_at    timestamptz,
  -- Addresses or CIDR ranges (validated in code); empty means any client address.
  allowed_ips   text[] NOT NULL DEFAULT '{}',
  -- Accepted only on requests that arrive through the onion service.
  onion_only    boolean NOT NULL DEFAULT false,
  last_used_at  timestamptz
);
-- ListApiKeys pages newest first.
CREATE INDEX api_keys_created ON api_keys (created_at DESC, id DESC);
