import { sql } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApiKey } from "../../src/core/auth/keys.js";
import { insertOperation } from "../../src/core/operations/repo.js";
import { OperationKind, OperationState, Resource } from "../../src/gen/tronpay/v1/common_pb.js";
import { OperationService } from "../../src/gen/tronpay/v1/operation_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { PayoutService, PayoutState } from "../../src/gen/tronpay/v1/payout_pb.js";
import { StakingService } from "../../src/gen/tronpay/v1/staking_pb.js";
import { UsdtService } from "../../src/gen/tronpay/v1/usdt_pb.js";
import { WalletPurpose, WalletService } from "../../src/gen/tronpay/v1/wallet_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { parseAmount } from "../../src/shared/money.js";
import { encrypt } from "../../src/signer/keystore.js";
import { newTestAccount, waitFor } from "../devnet/helpers.js";
import { fundedWallet, waitForPayout } from "../helpers/payouts.js";
import { type Stack, startStack } from "../helpers/stack.js";

// Issue 16, item 2: an operator granted a USDT allowance to a key they had imported and took
// the funds with transferFrom, with no second person and no payout record. Real devnet, signer
// and core processes: the attack is refused at every step now, and the allowlisted path (an
// allowance to a derived PAYOUT wallet, four eyes above the threshold) works.
let stack: Stack;
let operatorKey: string;
let approverKey: string;
let payer: { id: string; address: string };
let spenderWallet: { id: string; address: string };
let imported: { id: string; address: string };

const failure = (p: Promise<unknown>) => p.then(() => "succeeded", reasonOf);

async function operationCount(): Promise<number> {
  return stack.db.pool.oneFirst(
    sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM operations`,
  );
}

async function allowance(owner: string, spender: string): Promise<string> {
  const r = await stack
    .client(UsdtService)
    .getAllowance({ ownerAddress: owner, spenderAddress: spender });
  return r.allowance;
}

async function key(name: string, roles: Role[]): Promise<string> {
  const created = await stack.db.pool.transaction((tx) =>
    createApiKey(tx, { name, roles, owner: name, createdBy: "test", now: Date.now() }),
  );
  return created.key;
}

beforeAll(async () => {
  stack = await startStack({
    coreEnv: { TRONPAY_APPROVAL_THRESHOLD: "5000", TRONPAY_DIRECT_MAX_PER_DAY: "10000" },
  });
  operatorKey = await key("operator", [Role.OPERATOR]);
  approverKey = await key("approver", [Role.APPROVER]);
  payer = await fundedWallet(stack, 10_000n, 20_000n);
  const { wallet } = await stack.client(WalletService).createWallet({
    idempotencyKey: "w-spender",
    label: "spender",
    purpose: WalletPurpose.PAYOUT,
  });
  spenderWallet = { id: wallet?.id ?? "", address: wallet?.address ?? "" };
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the allowance theft path", () => {
  it("lets only an administrator import a key, and audits the import as a key event", async () => {
    const account = newTestAccount();
    const credential = {
      passphrase: stack.signerEnv.TRONPAY_SIGNER_PASSPHRASE ?? "",
      scryptLogN: 4,
    };
    const encryptedKey = await encrypt(account.privateKey, credential);
    const request = {
      idempotencyKey: "import-1",
      label: "known key",
      purpose: WalletPurpose.PAYOUT,
      encryptedKey,
    };
    expect(await failure(stack.client(WalletService, operatorKey).importWallet(request))).toBe(
      "auth.permission_denied",
    );
    const { wallet } = await stack.client(WalletService).importWallet(request);
    expect(wallet?.address).toBe(account.address);
    imported = { id: wallet?.id ?? "", address: wallet?.address ?? "" };
    const actions = await stack.db.pool.anyFirst(sql.type(z.object({ action: z.string() }))`
      SELECT action FROM audit_log WHERE subject = ${imported.id} ORDER BY time`);
    expect(actions).toContain("wallet.key_imported");
  }, 30_000);

  it("refuses an operator's allowance to the freshly imported key, and to a stranger; nothing is stored", async () => {
    const usdt = stack.client(UsdtService, operatorKey);
    const before = await operationCount();
    const toImported = usdt.approve({
      idempotencyKey: "theft-1",
      walletId: payer.id,
      spenderAddress: imported.address,
      amount: "9000",
    });
    expect(await failure(toImported)).toBe("wallet.key_cooling_off");
    const toStranger = usdt.approve({
      idempotencyKey: "theft-2",
      walletId: payer.id,
      spenderAddress: newTestAccount().address,
      amount: "9000",
    });
    expect(await failure(toStranger)).toBe("usdt.spender_not_allowed");
    expect(await operationCount()).toBe(before);
    expect(await allowance(payer.address, imported.address)).toBe("0");
  }, 30_000);

  it("refuses a delegation of resources to the freshly imported key (value moved out too)", async () => {
    const { wallet: staker } = await stack.client(WalletService).createWallet({
      idempotencyKey: "w-staker",
      label: "staker",
      purpose: WalletPurpose.STAKING,
    });
    const before = await operationCount();
    const delegation = stack.client(StakingService, operatorKey).delegate({
      idempotencyKey: "theft-3",
      walletId: staker?.id ?? "",
      receiverAddress: imported.address,
      amount: "1000",
      resource: Resource.ENERGY,
    });
    expect(await failure(delegation)).toBe("wallet.key_cooling_off");
    expect(await operationCount()).toBe(before);
  }, 30_000);

  it("has the signer refuse an allowance to a freshly imported key that reached it anyway: the operation FAILS, once", async () => {
    // A core that did not check (an older one, or a row written by hand) still gets nowhere.
    const op = await stack.db.pool.transaction((tx) =>
      insertOperation(tx, {
        kind: "USDT_APPROVE",
        asset: "USDT",
        amount: 9_000_000_000n,
        walletId: payer.id,
        ownerAddress: payer.address,
        counterpartyAddress: imported.address,
        resource: null,
        lockPeriodBlocks: 0n,
        principal: "test:bypass",
      }),
    );
    const operations = stack.client(OperationService);
    const failed = await waitFor(async () => {
      const { operation } = await operations.getOperation({ id: op.id });
      return operation?.state === OperationState.FAILED ? operation : undefined;
    }, 30_000);
    expect(failed.failureReason).toBe("signer.policy_denied");
    expect(failed.failureDetail).toMatch(/^imported_key_cooling_off: /);
    expect(failed.txIds).toEqual([]);
    const events = await stack.db.pool.anyFirst(sql.type(z.object({ type: z.string() }))`
      SELECT type FROM outbox WHERE subject_id = ${op.id} ORDER BY seq`);
    expect(events).toContain("operation.failed");
    expect(await allowance(payer.address, imported.address)).toBe("0");
  }, 60_000);

  it("sends a large allowance to a derived PAYOUT wallet through four eyes; it confirms on chain", async () => {
    const request = {
      idempotencyKey: "ok-1",
      walletId: payer.id,
      spenderAddress: spenderWallet.address,
      amount: "9000",
    };
    const { operation, payout } = await stack.client(UsdtService, operatorKey).approve(request);
    expect(operation?.kind).toBe(OperationKind.USDT_APPROVE);
    expect(payout?.id).toBe(operation?.id);
    expect(payout?.state).toBe(PayoutState.AWAITING_APPROVAL);
    expect(payout?.kind).toBe(OperationKind.USDT_APPROVE);
    const id = payout?.id ?? "";
    // Its creator cannot approve it; a second principal can.
    expect(
      await failure(
        stack.client(PayoutService, operatorKey).approvePayout({ idempotencyKey: "a-0", id }),
      ),
    ).toBe("auth.permission_denied");
    await stack.client(PayoutService, approverKey).approvePayout({ idempotencyKey: "a-1", id });
    const done = await waitForPayout(stack, id);
    expect(PayoutState[done.state]).toBe("CONFIRMED");
    expect(await allowance(payer.address, spenderWallet.address)).toBe("9000");
    // The replayed answer is the operation as it is now, not as first stored.
    const replay = await stack.client(UsdtService, operatorKey).approve(request);
    expect(replay.operation?.state).toBe(OperationState.CONFIRMED);
    expect(replay.payout?.state).toBe(PayoutState.CONFIRMED);
  }, 90_000);

  it("counts allowances against the DIRECT route's daily limit", async () => {
    const over = stack.client(UsdtService, operatorKey).approve({
      idempotencyKey: "ok-2",
      walletId: payer.id,
      spenderAddress: spenderWallet.address,
      amount: "1000.000001",
    });
    expect(await failure(over)).toBe("payout.limit_exceeded");
    // What is left of the day still goes.
    const { payout } = await stack.client(UsdtService, operatorKey).approve({
      idempotencyKey: "ok-3",
      walletId: payer.id,
      spenderAddress: spenderWallet.address,
      amount: "1000",
    });
    expect(payout?.state).toBe(PayoutState.QUEUED);
    expect(parseAmount(payout?.amount?.value ?? "")).toBe(1_000_000_000n);
  }, 30_000);
});
