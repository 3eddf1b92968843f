import { TronWeb } from "tronweb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTestAccount, startTestDevnet, type TestNet, TRX } from "./helpers.js";

let net: TestNet;

beforeAll(async () => {
  net = await startTestDevnet();
});
afterAll(async () => {
  await net?.stop();
});

const USDT = 1_000_000n;
/** The all-zero address (41 followed by 20 zero bytes), in base58. */
const ZERO_ADDRESS = TronWeb.address.fromHex(`41${"00".repeat(20)}`);

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${net.devnet.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

function resultOf(answer: Record<string, unknown>): { code?: string; message: string } {
  const r = answer.result as { code?: string; message?: string };
  return { code: r.code, message: Buffer.from(r.message ?? "", "hex").toString("utf8") };
}

describe("devnet constant calls, as java-tron answers them", () => {
  it("refuses a constant call without owner_address as java-tron does (OTHER_ERROR, owner_address isn't set)", async () => {
    const holder = net.fundedAccount(10n * TRX, 7n * USDT);
    const selector = "balanceOf(address)";
    const parameter = TronWeb.address.toHex(holder.address).slice(2).padStart(64, "0");
    for (const path of [
      "/wallet/triggerconstantcontract",
      "/wallet/estimateenergy",
      "/wallet/triggersmartcontract",
    ]) {
      for (const owner of [{}, { owner_address: "" }]) {
        const answer = await post(path, {
          ...owner,
          contract_address: TronWeb.address.toHex(net.devnet.usdtAddress),
          function_selector: selector,
          parameter,
        });
        expect(resultOf(answer)).toEqual({
          code: "OTHER_ERROR",
          message: "class java.security.InvalidParameterException : owner_address isn't set.",
        });
      }
    }
    // What unmodified tronweb without a default address sees: java-tron's reason, not ours.
    const readOnly = new TronWeb({ fullHost: net.devnet.url });
    const c = await readOnly.contract().at(net.devnet.usdtAddress);
    await expect(c.balanceOf(holder.address).call()).rejects.toThrow("owner_address isn't set.");
  });

  it("runs a constant call from the zero address or an account that does not exist", async () => {
    const holder = net.fundedAccount(10n * TRX, 9n * USDT);
    for (const from of [ZERO_ADDRESS, newTestAccount().address]) {
      const readOnly = new TronWeb({ fullHost: net.devnet.url });
      readOnly.setAddress(from);
      const c = await readOnly.contract().at(net.devnet.usdtAddress);
      expect(BigInt(String(await c.balanceOf(holder.address).call()))).toBe(9n * USDT);
    }
  });

  it("answers a constant call to an address without a contract CONTRACT_VALIDATE_ERROR", async () => {
    const answer = await post("/wallet/triggerconstantcontract", {
      owner_address: TronWeb.address.toHex(ZERO_ADDRESS),
      contract_address: TronWeb.address.toHex(newTestAccount().address),
      function_selector: "decimals()",
    });
    expect(resultOf(answer)).toEqual({
      code: "CONTRACT_VALIDATE_ERROR",
      message: "Smart contract is not exist.",
    });
  });
});
