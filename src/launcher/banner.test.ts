import { describe, expect, it } from "vitest";
import { BANNER_READY, type BannerFacts, renderBanner } from "./banner.js";

const facts: BannerFacts = {
  coreUrl: "http://127.0.0.1:50051",
  adminKey: "tp_admin_secret",
  payoutWallet: { id: "w-1", address: "TPayout" },
  exampleRecipient: "TRecipient",
  nodeUrl: "http://127.0.0.1:8090",
  devnet: true,
  databaseNote: "embedded PGlite in .data/pg",
  keystore: ".data/signer/keystore.age",
  keystoreCreated: true,
  signerDir: ".data/signer",
  passphraseFile: ".data/signer/passphrase",
  logsDir: ".data/logs",
  elapsedMs: 4_321,
};

describe("renderBanner", () => {
  it("shows the ready line, the key and a CLI example while the edge is not there", () => {
    const text = renderBanner(facts);
    expect(text).toContain(`== ${BANNER_READY} (ready in 4.3 s) ==`);
    expect(text).toContain("REST             not available yet");
    expect(text).toContain("http://127.0.0.1:8090 (local devnet)");
    expect(text).toContain(
      "TRONPAY_URL=http://127.0.0.1:50051 TRONPAY_API_KEY=tp_admin_secret \\\n    npx tronpay payouts create --wallet w-1",
    );
    expect(text).toContain("funded on the devnet");
    expect(text).toContain("keystore.age (created now)");
    expect(text).toContain("Logs: .data/logs/{signer,core}.log");
    expect(text).not.toContain("revoked now");
  });

  it("shows a curl example against the edge, the revoked key and why funding was skipped", () => {
    const text = renderBanner({
      ...facts,
      restUrl: "http://127.0.0.1:8080",
      revokedKeyId: "k-old",
      fundingNote: "not funded: a real node",
      devnet: false,
      keystoreCreated: false,
    });
    expect(text).toContain("curl -sS -X POST http://127.0.0.1:8080/v1/payouts");
    expect(text).toContain("-H 'authorization: Bearer tp_admin_secret'");
    expect(text).toContain('"walletId":"w-1","recipientAddress":"TRecipient"');
    expect(text).toContain("(k-old, revoked now)");
    expect(text).toContain("not funded: a real node");
    expect(text).toContain("Logs: .data/logs/{signer,core,edge}.log");
    expect(text).not.toContain("(local devnet)");
    expect(text).not.toContain("(created now)");
  });
});
