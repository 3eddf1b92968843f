import { secp256k1 } from "@noble/curves/secp256k1.js";
import type { AddressBytes } from "../shared/address.js";
import { addressFromPrivateKey } from "./keys.js";
import type { DecodedContract, TxRaw } from "./transaction.js";
import { encodeTransfer } from "./trc20.js";

// Test-only helpers shared by the src/tron tests: keys are generated per run, never stored.

/** A fresh key pair and its address. */
export function newAccount(): { priv: Uint8Array; address: AddressBytes } {
  const priv = secp256k1.utils.randomSecretKey();
  return { priv, address: addressFromPrivateKey(priv) };
}

/** One contract of every supported type, owned by `owner`, with non-default values. */
export function oneOfEach(owner: AddressBytes, other: AddressBytes): DecodedContract[] {
  return [
    { type: "TransferContract", owner, to: other, amount: 1_234_567n },
    {
      type: "TriggerSmartContract",
      owner,
      contract: other,
      callValue: 5n,
      data: encodeTransfer(owner, 10n ** 6n),
      callTokenValue: 7n,
      tokenId: 1_000_001n,
    },
    { type: "FreezeBalanceV2Contract", owner, frozenBalance: 10n ** 9n, resource: "ENERGY" },
    {
      type: "UnfreezeBalanceV2Contract",
      owner,
      unfreezeBalance: 2n * 10n ** 6n,
      resource: "TRON_POWER",
    },
    { type: "WithdrawExpireUnfreezeContract", owner },
    {
      type: "DelegateResourceContract",
      owner,
      resource: "ENERGY",
      balance: 3n * 10n ** 6n,
      receiver: other,
      lock: true,
      lockPeriod: 28_800n,
    },
    {
      type: "UnDelegateResourceContract",
      owner,
      resource: "ENERGY",
      balance: 3n * 10n ** 6n,
      receiver: other,
    },
    { type: "CancelAllUnfreezeV2Contract", owner },
  ];
}

/** A TxRaw around `contract` with realistic header values. */
export function rawWith(contract: DecodedContract, extra: Partial<TxRaw> = {}): TxRaw {
  return {
    refBlockBytes: Uint8Array.of(0x8a, 0xd9),
    refBlockHash: Uint8Array.of(0xea, 0xef, 0x69, 0x10, 0x54, 0x95, 0xeb, 0x15),
    expiration: 1_773_182_914_544n,
    timestamp: 1_773_182_854_544n,
    feeLimit: contract.type === "TriggerSmartContract" ? 100_000_000n : 0n,
    data: new Uint8Array(0),
    contract,
    permissionId: 0,
    ...extra,
  };
}
