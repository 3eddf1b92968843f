-- The audit log without a global lock, anchored outside the database (docs/audit.md).
--
-- A request inserts its entry with a number from audit_log_seq and no hash, so appends never
-- wait on each other. One chainer (core, under an advisory lock) later links committed entries
-- in seq order, filling prev_hash and hash once, and moves audit_head. Numbers of rolled-back
-- transactions are gaps, which the chain skips. CACHE 1 matters: the chainer's rule for when a
-- number is settled assumes a number is taken in the transaction that uses it.
CREATE SEQUENCE audit_log_seq CACHE 1;
SELECT setval('audit_log_seq', GREATEST(seq, 1), seq > 0) FROM audit_head;
ALTER SEQUENCE audit_log_seq OWNED BY audit_log.seq;
ALTER TABLE audit_log ALTER COLUMN seq SET DEFAULT nextval('audit_log_seq');
ALTER TABLE audit_log ALTER COLUMN prev_hash DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN hash DROP NOT NULL;

-- Hash format: 1 hashed values as JavaScript parsed them (a number edited to another that
-- parses to the same double verified); 2 hashes the stored text of details and the time in
-- microseconds. Existing entries stay format 1, new ones are format 2.
ALTER TABLE audit_log ADD COLUMN format smallint NOT NULL DEFAULT 1;
ALTER TABLE audit_log ALTER COLUMN format SET DEFAULT 2;
CREATE INDEX audit_log_unchained ON audit_log (seq) WHERE hash IS NULL;

-- The one update the chainer makes: an unchained entry gets its link; nothing else may change.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
     AND (NEW.seq, NEW.time, NEW.actor, NEW.action, NEW.subject, NEW.details, NEW.format)
         IS NOT DISTINCT FROM
         (OLD.seq, OLD.time, OLD.actor, OLD.action, OLD.subject, OLD.details, OLD.format) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

-- Checkpoints: the chain's head at a seq, signed by the signer's audit key (which the database
-- never sees). The signer journals each one it signs, so deleting rows here hides nothing.
CREATE TABLE audit_checkpoints (
  seq         bigint PRIMARY KEY,
  hash        text NOT NULL,
  signed_at   timestamptz NOT NULL,
  signature   text NOT NULL,
  public_key  text NOT NULL
);
CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_checkpoints is append-only';
END;
$$;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();

-- Row triggers do not fire on TRUNCATE: a statement-level guard for each audit table.
CREATE FUNCTION audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% may not be truncated', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
