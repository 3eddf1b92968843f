-- Payees and reporting, version 3.

-- Who created a payee (PayeeService shows it); older rows have none recorded.
ALTER TABLE payees ADD COLUMN created_by text NOT NULL DEFAULT '';

-- The API has KYC status EXPIRED (was verified; the verification lapsed).
ALTER TABLE payees DROP CONSTRAINT payees_kyc_status_check;
ALTER TABLE payees ADD CONSTRAINT payees_kyc_status_check
  CHECK (kyc_status IN ('NONE', 'PENDING', 'VERIFIED', 'REJECTED', 'EXPIRED'));

-- ListPayees filters by address.
CREATE INDEX payees_address ON payees (address) WHERE deleted_at IS NULL;

-- Statistics and the reconciliation job look payouts up by when they were confirmed.
CREATE INDEX operations_confirmed ON operations (confirmed_at) WHERE confirmed_at IS NOT NULL;
