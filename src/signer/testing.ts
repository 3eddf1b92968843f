import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { toBase58 } from "../shared/address.js";
import { newAccount, rawWith } from "../tron/testing.js";
import { type DecodedContract, encodeTransactionRaw } from "../tron/transaction.js";
import type { SignerDeps } from "./flows.js";
import { Journal } from "./journal.js";
import { Keystore } from "./keystore.js";
import type { Intent, Policy } from "./policy.js";

// Test-only helpers for the signer: a keystore with generated keys in a temp dir, a policy,
// and intent/transaction builders. Nothing here is used by the running signer.

export const PASSPHRASE_FOR_TESTS = {
  passphrase: `test-${process.pid}-${Date.now()}`,
  scryptLogN: 4,
};

/** A fake USDT contract address, generated per run. */
export const usdt = toBase58(newAccount().address);

export function testPolicy(over: Partial<Policy> = {}): Policy {
  return {
    allowedContracts: [
      "TransferContract",
      "TriggerSmartContract",
      "FreezeBalanceV2Contract",
      "UnfreezeBalanceV2Contract",
      "WithdrawExpireUnfreezeContract",
      "DelegateResourceContract",
      "UnDelegateResourceContract",
    ],
    usdtContract: usdt,
    maxPerTx: { TRX: 1_000_000_000n, USDT: 1_000_000_000n },
    maxPer24h: { TRX: 5_000_000_000n, USDT: 5_000_000_000n },
    maxFeeLimit: 100_000_000n,
    maxLifetimeMs: 600_000,
    allowMemo: false,
    allowlist: [],
    denylist: [],
    ownReceiversOnly: true,
    replacementMarginMs: 120_000,
    importedKeyCoolingOffMs: 86_400_000,
    ...over,
  };
}

/** A signer's dependencies over a fresh keystore with two derived keys. */
export async function testSigner(now: { value: number }, policy = testPolicy()) {
  const dir = mkdtempSync(join(tmpdir(), "tp-signer-"));
  const { keystore } = await Keystore.create(
    join(dir, "keystore.age"),
    PASSPHRASE_FOR_TESTS,
    undefined,
    () => now.value,
  );
  const owner = await keystore.derive(0, "payout");
  const own2 = await keystore.derive(0, "staking");
  const journal = Journal.open(join(dir, "journal.log"), () => now.value);
  const deps: SignerDeps = {
    keystore,
    journal,
    policy,
    clock: () => now.value,
    log: pino({ level: "silent" }),
    maxRawBytes: 16 * 1024,
  };
  return { deps, dir, owner: owner.address, own2: own2.address };
}

/** An intent with defaults for a TRX transfer. */
export function intent(over: Partial<Intent> & Pick<Intent, "owner" | "counterparty">): Intent {
  return {
    operationId: "op-1",
    kind: "TRX_TRANSFER",
    amount: 1_000_000n,
    previousTxId: "",
    asset: "TRX",
    lock: false,
    lockPeriodBlocks: 0n,
    memo: "",
    ...over,
  };
}

/** Encoded raw_data for a contract, expiring `lifetimeMs` after `now`. */
export function rawBytes(
  contract: DecodedContract,
  now: number,
  extra: Parameters<typeof rawWith>[1] = {},
) {
  return encodeTransactionRaw(
    rawWith(contract, { timestamp: BigInt(now), expiration: BigInt(now + 60_000), ...extra }),
  );
}
