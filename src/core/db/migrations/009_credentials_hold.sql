-- Credentials and approvals that hold (issue 16).

-- Every API key has an owner: the person (or system) it acts for. Four-eyes approval needs a
-- different owner, not just a different key. Keys that predate owners are each their own owner
-- ("key:<id>", what four-eyes compared before); the bootstrap key is owned by "bootstrap".
ALTER TABLE api_keys ADD COLUMN owner text;
UPDATE api_keys
SET owner = CASE WHEN created_by = 'system:bootstrap' THEN 'bootstrap' ELSE 'key:' || id END;
ALTER TABLE api_keys ALTER COLUMN owner SET NOT NULL;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_owner_format
  CHECK (owner ~ '^[A-Za-z0-9._@:+-]{1,100}$');

-- A refresh token rotates on every use; all tokens descending from one IssueToken form a
-- family. Presenting a rotated refresh token again revokes the whole family. Tokens that
-- predate families are each a family of their own.
ALTER TABLE issued_tokens ADD COLUMN family_id text;
UPDATE issued_tokens SET family_id = jti;
ALTER TABLE issued_tokens ALTER COLUMN family_id SET NOT NULL;
CREATE INDEX issued_tokens_family ON issued_tokens (family_id) WHERE revoked_at IS NULL;

-- A compliance approval pays out once: the digest it signs is recorded with the payout that
-- consumed it, in that payout's transaction; the primary key refuses a second use, also from a
-- concurrent request or another replica.
CREATE TABLE compliance_approvals (
  digest      bytea PRIMARY KEY CHECK (length(digest) = 32),
  key_id      text NOT NULL,
  payout_id   text NOT NULL REFERENCES payouts (id),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz NOT NULL DEFAULT now()
);
