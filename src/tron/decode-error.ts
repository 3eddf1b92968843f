/** Why a TRON byte string or JSON document was refused; stable, for tests and logs. */
export type TronDecodeCode =
  | "truncated"
  | "trailing_garbage"
  | "unknown_field"
  | "wrong_wire_type"
  | "duplicate_field"
  | "non_canonical"
  | "contract_count"
  | "unknown_contract"
  | "type_mismatch"
  | "bad_address"
  | "bad_value"
  | "bad_signature"
  | "unknown_method"
  | "bad_json"
  | "txid_mismatch";

/**
 * Thrown when TRON data does not decode strictly (or a value cannot be encoded). Callers map
 * it to their own reason (e.g. `signer.malformed_transaction`); `code` says what was wrong.
 */
export class TronDecodeError extends Error {
  readonly code: TronDecodeCode;

  constructor(code: TronDecodeCode, message: string) {
    super(message);
    this.name = "TronDecodeError";
    this.code = code;
  }
}
