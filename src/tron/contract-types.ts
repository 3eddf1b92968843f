import type { AddressBytes } from "../shared/address.js";

/** The contract types tronpay decodes, signs and emulates. */
export type ContractType =
  | "TransferContract"
  | "TriggerSmartContract"
  | "FreezeBalanceV2Contract"
  | "UnfreezeBalanceV2Contract"
  | "WithdrawExpireUnfreezeContract"
  | "DelegateResourceContract"
  | "UnDelegateResourceContract"
  | "CancelAllUnfreezeV2Contract";

/** A stake or delegation resource, by TRON's enum name. */
export type Resource = "BANDWIDTH" | "ENERGY" | "TRON_POWER";

/** A contract parameter decoded into our types; addresses are 21 bytes, amounts sun. */
export type DecodedContract =
  | { type: "TransferContract"; owner: AddressBytes; to: AddressBytes; amount: bigint }
  | {
      type: "TriggerSmartContract";
      owner: AddressBytes;
      contract: AddressBytes;
      callValue: bigint;
      data: Uint8Array;
      callTokenValue: bigint;
      tokenId: bigint;
    }
  | {
      type: "FreezeBalanceV2Contract";
      owner: AddressBytes;
      frozenBalance: bigint;
      resource: Resource;
    }
  | {
      type: "UnfreezeBalanceV2Contract";
      owner: AddressBytes;
      unfreezeBalance: bigint;
      resource: Resource;
    }
  | { type: "WithdrawExpireUnfreezeContract"; owner: AddressBytes }
  | {
      type: "DelegateResourceContract";
      owner: AddressBytes;
      resource: Resource;
      balance: bigint;
      receiver: AddressBytes;
      lock: boolean;
      lockPeriod: bigint;
    }
  | {
      type: "UnDelegateResourceContract";
      owner: AddressBytes;
      resource: Resource;
      balance: bigint;
      receiver: AddressBytes;
    }
  | { type: "CancelAllUnfreezeV2Contract"; owner: AddressBytes };

/** TRON's ContractType enum numbers for the supported types. */
export const CONTRACT_TYPE_NUMBER: Readonly<Record<ContractType, number>> = {
  TransferContract: 1,
  TriggerSmartContract: 31,
  FreezeBalanceV2Contract: 54,
  UnfreezeBalanceV2Contract: 55,
  WithdrawExpireUnfreezeContract: 56,
  DelegateResourceContract: 57,
  UnDelegateResourceContract: 58,
  CancelAllUnfreezeV2Contract: 59,
};

/** The supported type for an enum number, or undefined. */
export function contractTypeOf(no: number): ContractType | undefined {
  const entry = Object.entries(CONTRACT_TYPE_NUMBER).find(([, n]) => n === no);
  return entry?.[0] as ContractType | undefined;
}

/** ResourceCode names by enum number. */
export const RESOURCES: readonly Resource[] = ["BANDWIDTH", "ENERGY", "TRON_POWER"];
