import { describe, expect, it } from "vitest";
import { loadConfig } from "../../shared/config.js";
import { parseAmount } from "../../shared/money.js";
import { signerConfigSpec } from "../../signer/config.js";
import { coreConfigSpec } from "./config.js";

describe("core's default limits against the signer's default caps", () => {
  const core = loadConfig(coreConfigSpec, {
    env: {
      DATABASE_URL: "postgres://x@127.0.0.1/x",
      TRON_NODE_URL: "http://127.0.0.1:1",
      TRONPAY_USDT_CONTRACT: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
      TRONPAY_SIGNER_SOCKET: "/nonexistent/signer.sock",
    },
  });
  const signer = loadConfig(signerConfigSpec, { env: {} });
  const units = (text: string) => parseAmount(text);

  it("lets the signer sign any single payout core accepts", () => {
    const largest = [core.v0MaxPerPayout, core.kycMaxPerPayout, core.directMaxPerPayout]
      .map(units)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .at(-1);
    expect(largest).toBeLessThanOrEqual(units(signer.maxPerTxUsdt));
    expect(largest).toBeLessThanOrEqual(units(signer.maxPerTxTrx));
  });

  it("lets the signer sign a whole day of what core accepts", () => {
    const day = [core.v0MaxPerDay, core.kycMaxPerDay, core.directMaxPerDay]
      .map(units)
      .reduce((a, b) => a + b);
    expect(day).toBeLessThanOrEqual(units(signer.maxPer24hUsdt));
    expect(day).toBeLessThanOrEqual(units(signer.maxPer24hTrx));
  });
});
