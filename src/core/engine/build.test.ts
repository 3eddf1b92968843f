import { describe, expect, it } from "vitest";
import { IntentKind } from "../../gen/tronpay/signer/v1/signer_pb.js";
import { Asset, Resource } from "../../gen/tronpay/v1/common_pb.js";
import type { BuiltTx, Chain, StakeRequest, TransferRequest } from "../chain/types.js";
import { planAttempt } from "./build.js";
import type { EngineSettings } from "./deps.js";
import type { OperationRow } from "./repo.js";

const OWNER = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const OTHER = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf";
const built: BuiltTx = {
  rawData: new Uint8Array([1]),
  txId: "00".repeat(32),
  expiration: 0,
  feeLimit: 0n,
  refBlock: { number: 1n, id: "00".repeat(32), timestamp: 0 },
};
const settings = { lifetimeMs: 60_000, feeLimitSun: 50_000_000n } as EngineSettings;

/** A chain that records what it was asked to build. */
function recordingChain() {
  const asked: (TransferRequest | StakeRequest)[] = [];
  const chain = {
    buildTransfer: async (r: TransferRequest) => {
      asked.push(r);
      return built;
    },
    buildStake: async (r: StakeRequest) => {
      asked.push(r);
      return built;
    },
  } as unknown as Chain;
  return { chain, asked };
}

function op(patch: Partial<OperationRow>): OperationRow {
  return {
    id: "op_1",
    kind: "PAYOUT",
    state: "QUEUED",
    asset: "TRX",
    amount: 5_000_000n,
    wallet_id: "wal_1",
    owner_address: OWNER,
    counterparty_address: "",
    resource: null,
    lock_period_blocks: 0n,
    memo: "",
    priority: 2,
    hold_reason: null,
    next_run_at: 0,
    ...patch,
  };
}

describe("planAttempt", () => {
  it("builds a locked delegation and declares the same lock, resource and receiver", async () => {
    const { chain, asked } = recordingChain();
    const row = op({
      kind: "DELEGATE",
      resource: "ENERGY",
      counterparty_address: OTHER,
      lock_period_blocks: 20n,
    });
    const { intent } = await planAttempt(chain, settings, row, undefined);
    expect(asked).toEqual([
      {
        kind: "DELEGATE",
        owner: OWNER,
        lifetimeMs: 60_000,
        amount: 5_000_000n,
        resource: "ENERGY",
        receiver: OTHER,
        lockPeriod: 20n,
      },
    ]);
    expect(intent).toMatchObject({
      kind: IntentKind.DELEGATE,
      counterpartyAddress: OTHER,
      resource: Resource.ENERGY,
      lock: true,
      lockPeriodBlocks: 20n,
      asset: Asset.TRX,
      amount: "5000000",
    });
  });

  it("builds a withdrawal with no amount, resource or counterparty", async () => {
    const { chain, asked } = recordingChain();
    const { intent } = await planAttempt(
      chain,
      settings,
      op({ kind: "WITHDRAW_UNSTAKED" }),
      "ab".repeat(32),
    );
    expect(asked).toEqual([{ kind: "WITHDRAW_EXPIRE_UNFREEZE", owner: OWNER, lifetimeMs: 60_000 }]);
    expect(intent).toMatchObject({
      kind: IntentKind.WITHDRAW_UNSTAKED,
      amount: "0",
      resource: Resource.UNSPECIFIED,
      counterpartyAddress: "",
      previousTxId: "ab".repeat(32),
    });
  });

  it("builds an approve as a USDT call with the fee limit and the spender as counterparty", async () => {
    const { chain, asked } = recordingChain();
    const row = op({ kind: "USDT_APPROVE", asset: "USDT", counterparty_address: OTHER });
    const { intent } = await planAttempt(chain, settings, row, undefined);
    expect(asked[0]).toMatchObject({ kind: "USDT_APPROVE", to: OTHER, feeLimit: 50_000_000n });
    expect(intent).toMatchObject({
      kind: IntentKind.USDT_APPROVE,
      asset: Asset.USDT,
      counterpartyAddress: OTHER,
    });
  });

  it("builds an unstake for the operation's resource", async () => {
    const { chain, asked } = recordingChain();
    await planAttempt(chain, settings, op({ kind: "UNSTAKE", resource: "BANDWIDTH" }), undefined);
    expect(asked[0]).toMatchObject({ kind: "UNFREEZE", resource: "BANDWIDTH", amount: 5_000_000n });
  });
});
