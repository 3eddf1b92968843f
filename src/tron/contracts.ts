import { create, toBinary } from "@bufbuild/protobuf";
import {
  CancelAllUnfreezeV2ContractSchema,
  DelegateResourceContractSchema,
  FreezeBalanceV2ContractSchema,
  type ResourceCode,
  TransferContractSchema,
  TriggerSmartContractSchema,
  UnDelegateResourceContractSchema,
  UnfreezeBalanceV2ContractSchema,
  WithdrawExpireUnfreezeContractSchema,
} from "../gen/protocol/contracts_pb.js";
import type { AddressBytes } from "../shared/address.js";
import {
  type ContractType,
  type DecodedContract,
  RESOURCES,
  type Resource,
} from "./contract-types.js";

export {
  CONTRACT_TYPE_NUMBER,
  type ContractType,
  contractTypeOf,
  type DecodedContract,
  type Resource,
} from "./contract-types.js";

import { TronDecodeError } from "./decode-error.js";
import { checkAddress, checkInt64 } from "./values.js";
import {
  bytesField,
  int64Field,
  type MessageSpec,
  readMessage,
  single,
  type WireValue,
} from "./wire.js";

const b = (name: string) => ({ name, kind: "bytes" as const });
const v = (name: string) => ({ name, kind: "varint" as const });

// Wire layouts, by TRON's field numbers (TRON.md).
const SPECS: Readonly<Record<ContractType, MessageSpec>> = {
  TransferContract: { 1: b("owner_address"), 2: b("to_address"), 3: v("amount") },
  TriggerSmartContract: {
    1: b("owner_address"),
    2: b("contract_address"),
    3: v("call_value"),
    4: b("data"),
    5: v("call_token_value"),
    6: v("token_id"),
  },
  FreezeBalanceV2Contract: { 1: b("owner_address"), 2: v("frozen_balance"), 3: v("resource") },
  UnfreezeBalanceV2Contract: { 1: b("owner_address"), 2: v("unfreeze_balance"), 3: v("resource") },
  WithdrawExpireUnfreezeContract: { 1: b("owner_address") },
  DelegateResourceContract: {
    1: b("owner_address"),
    2: v("resource"),
    3: v("balance"),
    4: b("receiver_address"),
    5: v("lock"),
    6: v("lock_period"),
  },
  UnDelegateResourceContract: {
    1: b("owner_address"),
    2: v("resource"),
    3: v("balance"),
    4: b("receiver_address"),
  },
  CancelAllUnfreezeV2Contract: { 1: b("owner_address") },
};

type Fields = Map<number, WireValue[]>;

/** Strictly decodes a contract parameter (the Any's value) of the given type. */
export function decodeContractParameter(type: ContractType, bytes: Uint8Array): DecodedContract {
  const f = readMessage(bytes, SPECS[type], type);
  const addr = (no: number, name: string) => checkAddress(bytesField(f, no), `${type}.${name}`);
  const int = (no: number, name: string) => int64Field(f, no, `${type}.${name}`);
  const owner = addr(1, "owner_address");
  switch (type) {
    case "TransferContract":
      return { type, owner, to: addr(2, "to_address"), amount: int(3, "amount") };
    case "TriggerSmartContract":
      return {
        type,
        owner,
        contract: addr(2, "contract_address"),
        callValue: int(3, "call_value"),
        data: bytesField(f, 4),
        callTokenValue: int(5, "call_token_value"),
        tokenId: int(6, "token_id"),
      };
    case "FreezeBalanceV2Contract":
      return {
        type,
        owner,
        frozenBalance: int(2, "frozen_balance"),
        resource: resourceField(f, 3, type),
      };
    case "UnfreezeBalanceV2Contract":
      return {
        type,
        owner,
        unfreezeBalance: int(2, "unfreeze_balance"),
        resource: resourceField(f, 3, type),
      };
    case "DelegateResourceContract":
      return {
        type,
        owner,
        resource: resourceField(f, 2, type),
        balance: int(3, "balance"),
        receiver: addr(4, "receiver_address"),
        lock: boolField(f, 5, type),
        lockPeriod: int(6, "lock_period"),
      };
    case "UnDelegateResourceContract":
      return {
        type,
        owner,
        resource: resourceField(f, 2, type),
        balance: int(3, "balance"),
        receiver: addr(4, "receiver_address"),
      };
    case "WithdrawExpireUnfreezeContract":
    case "CancelAllUnfreezeV2Contract":
      return { type, owner };
  }
}

function resourceField(f: Fields, no: number, path: string): Resource {
  const raw = single(f, no)?.value as bigint | undefined;
  const r = raw === undefined ? "BANDWIDTH" : RESOURCES[Number(raw)];
  if (raw !== undefined && (raw > 2n || !r)) {
    throw new TronDecodeError("bad_value", `${path}.resource: unknown ResourceCode ${raw}`);
  }
  return r as Resource;
}

function boolField(f: Fields, no: number, path: string): boolean {
  const raw = single(f, no)?.value as bigint | undefined;
  if (raw !== undefined && raw > 1n)
    throw new TronDecodeError("bad_value", `${path}.lock is not a bool`);
  return raw === 1n;
}

function resourceCode(r: Resource, path: string): ResourceCode {
  const i = RESOURCES.indexOf(r);
  if (i < 0)
    throw new TronDecodeError("bad_value", `${path}.resource: unknown resource ${String(r)}`);
  return i as ResourceCode;
}

type Of<K extends ContractType> = Extract<DecodedContract, { type: K }>;
type Encoders = { [K in ContractType]: (c: Of<K>, owner: AddressBytes) => Uint8Array };

const addr = (c: { type: ContractType }, a: AddressBytes, name: string) =>
  checkAddress(a, `${c.type}.${name}`);
const int = (c: { type: ContractType }, v: bigint, name: string) =>
  checkInt64(v, `${c.type}.${name}`);

// One encoder per type, through the generated schemas so field numbers come from the .proto.
const ENCODERS: Encoders = {
  TransferContract: (c, ownerAddress) =>
    toBinary(
      TransferContractSchema,
      create(TransferContractSchema, {
        ownerAddress,
        toAddress: addr(c, c.to, "to_address"),
        amount: int(c, c.amount, "amount"),
      }),
    ),
  TriggerSmartContract: (c, ownerAddress) =>
    toBinary(
      TriggerSmartContractSchema,
      create(TriggerSmartContractSchema, {
        ownerAddress,
        contractAddress: addr(c, c.contract, "contract_address"),
        callValue: int(c, c.callValue, "call_value"),
        data: c.data,
        callTokenValue: int(c, c.callTokenValue, "call_token_value"),
        tokenId: int(c, c.tokenId, "token_id"),
      }),
    ),
  FreezeBalanceV2Contract: (c, ownerAddress) =>
    toBinary(
      FreezeBalanceV2ContractSchema,
      create(FreezeBalanceV2ContractSchema, {
        ownerAddress,
        frozenBalance: int(c, c.frozenBalance, "frozen_balance"),
        resource: resourceCode(c.resource, c.type),
      }),
    ),
  UnfreezeBalanceV2Contract: (c, ownerAddress) =>
    toBinary(
      UnfreezeBalanceV2ContractSchema,
      create(UnfreezeBalanceV2ContractSchema, {
        ownerAddress,
        unfreezeBalance: int(c, c.unfreezeBalance, "unfreeze_balance"),
        resource: resourceCode(c.resource, c.type),
      }),
    ),
  DelegateResourceContract: (c, ownerAddress) =>
    toBinary(
      DelegateResourceContractSchema,
      create(DelegateResourceContractSchema, {
        ownerAddress,
        resource: resourceCode(c.resource, c.type),
        balance: int(c, c.balance, "balance"),
        receiverAddress: addr(c, c.receiver, "receiver_address"),
        lock: c.lock,
        lockPeriod: int(c, c.lockPeriod, "lock_period"),
      }),
    ),
  UnDelegateResourceContract: (c, ownerAddress) =>
    toBinary(
      UnDelegateResourceContractSchema,
      create(UnDelegateResourceContractSchema, {
        ownerAddress,
        resource: resourceCode(c.resource, c.type),
        balance: int(c, c.balance, "balance"),
        receiverAddress: addr(c, c.receiver, "receiver_address"),
      }),
    ),
  WithdrawExpireUnfreezeContract: (_, ownerAddress) =>
    toBinary(
      WithdrawExpireUnfreezeContractSchema,
      create(WithdrawExpireUnfreezeContractSchema, { ownerAddress }),
    ),
  CancelAllUnfreezeV2Contract: (_, ownerAddress) =>
    toBinary(
      CancelAllUnfreezeV2ContractSchema,
      create(CancelAllUnfreezeV2ContractSchema, { ownerAddress }),
    ),
};

/**
 * Encodes a contract parameter as deterministic proto3 (ascending fields, defaults omitted).
 * Refuses, with the decoder's codes, any value the decoder would refuse.
 */
export function encodeContractParameter(c: DecodedContract): Uint8Array {
  const encode = ENCODERS[c.type] as
    | ((c: DecodedContract, owner: AddressBytes) => Uint8Array)
    | undefined;
  if (!encode || !Object.hasOwn(ENCODERS, c.type)) {
    throw new TronDecodeError("unknown_contract", `unsupported contract type ${String(c.type)}`);
  }
  if (
    typeof c.type === "string" &&
    c.type === "TriggerSmartContract" &&
    !(c.data instanceof Uint8Array)
  ) {
    throw new TronDecodeError("bad_value", "TriggerSmartContract.data must be bytes");
  }
  return encode(c, checkAddress(c.owner, `${c.type}.owner_address`));
}
