import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  newTestAccount,
  startTestDevnet,
  type TestAccount,
  type TestNet,
} from "../../../test/devnet/helpers.js";
import { createChain } from "../chain/index.js";
import type { Chain, ChainParameters } from "../chain/types.js";
import { quoteFee } from "./quote.js";

// quoteFee against the in-process devnet: a real node, real transactions built and measured.

let net: TestNet;
let chain: Chain;
let params: ChainParameters;
let owner: TestAccount;
let existing: TestAccount;

beforeAll(async () => {
  net = await startTestDevnet();
  chain = createChain({
    nodeUrls: [net.devnet.url],
    usdtContract: net.devnet.usdtAddress,
    log: pino({ level: "silent" }),
  });
  params = await chain.chainParameters();
  // Fees the checks below tell apart (the devnet charges mainnet's).
  expect(params.memoFeeSun).toBeGreaterThan(0n);
  expect(params.accountActivationFeeSun).toBeGreaterThan(0n);
  owner = net.fundedAccount(1_000_000_000n, 1_000_000_000n);
  existing = net.fundedAccount(1_000_000n);
}, 60_000);
afterAll(async () => {
  await net?.stop();
});

const trx = (recipient: string, memo = "") => ({
  owner: owner.address,
  recipient,
  asset: "TRX" as const,
  amount: 1_000_000n,
  memo,
  feeLimitSun: 30_000_000n,
});

describe("quoteFee", () => {
  it("prices TRX to an existing account at nothing while the free bandwidth lasts", async () => {
    const q = await quoteFee(chain, trx(existing.address));
    expect(q).toMatchObject({
      energy: 0n,
      trxToBurnSun: 0n,
      activationNeeded: false,
      recipientNewToUsdt: false,
      feeLimitSun: 0n,
    });
    // A transfer's raw data, its 65-byte signature with the field headers, and 64 result bytes.
    expect(q.bandwidth).toBeGreaterThan(200n);
    expect(q.bandwidth).toBeLessThan(300n);
  });

  it("adds the memo fee and the bytes of the memo", async () => {
    const plain = await quoteFee(chain, trx(existing.address));
    const memo = await quoteFee(chain, trx(existing.address, "invoice 42"));
    expect(memo.trxToBurnSun).toBe(params.memoFeeSun);
    expect(memo.bandwidth).toBeGreaterThan(plain.bandwidth + 9n);
  });

  it("charges both activation fees for TRX to an account that does not exist", async () => {
    const q = await quoteFee(chain, trx(newTestAccount().address));
    expect(q.activationNeeded).toBe(true);
    expect(q.trxToBurnSun).toBe(
      params.createAccountBandwidthFeeSun + params.accountActivationFeeSun,
    );
  });

  it("burns TRX for the estimated energy of a USDT transfer without staked energy", async () => {
    const q = await quoteFee(chain, {
      ...trx(newTestAccount().address),
      asset: "USDT",
      feeLimitSun: 40_000_000n,
    });
    expect(q.energy).toBeGreaterThan(0n);
    expect(q.trxToBurnSun).toBe(q.energy * params.energyFeeSun);
    expect(q).toMatchObject({
      recipientNewToUsdt: true,
      activationNeeded: false,
      feeLimitSun: 40_000_000n,
    });
    const holder = await quoteFee(chain, { ...trx(owner.address), asset: "USDT" });
    expect(holder.recipientNewToUsdt).toBe(false);
  });
});
