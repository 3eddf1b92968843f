/** What the launcher prints once everything is up. */
export interface BannerFacts {
  coreUrl: string;
  restUrl?: string;
  adminKey: string;
  /** The previous run's key, revoked now that this one is printed. */
  revokedKeyId?: string;
  payoutWallet: { id: string; address: string };
  /** A fresh address to pay in the example (its key was never kept). */
  exampleRecipient: string;
  /** undefined: funded now or earlier; a string: why it was not funded. */
  fundingNote?: string;
  nodeUrl: string;
  devnet: boolean;
  databaseNote: string;
  keystore: string;
  keystoreCreated: boolean;
  signerDir: string;
  passphraseFile: string;
  logsDir: string;
  elapsedMs: number;
}

/** The marker line tests and scripts wait for. */
export const BANNER_READY = "tronpay is running";

/** The block printed when the system is up: URLs, the key, the wallet and what to type next. */
export function renderBanner(f: BannerFacts): string {
  const env = `TRONPAY_URL=${f.coreUrl} TRONPAY_API_KEY=${f.adminKey}`;
  const create = f.restUrl
    ? [
        `  curl -sS -X POST ${f.restUrl}/v1/payouts \\`,
        `    -H 'authorization: Bearer ${f.adminKey}' -H 'content-type: application/json' \\`,
        `    -d '{"idempotencyKey":"demo-1","walletId":"${f.payoutWallet.id}","recipientAddress":"${f.exampleRecipient}","amount":{"asset":"ASSET_USDT","value":"12.5"},"route":"PAYOUT_ROUTE_V0"}'`,
      ]
    : [
        `  ${env} \\`,
        `    npx tronpay payouts create --wallet ${f.payoutWallet.id} \\`,
        `    --to ${f.exampleRecipient} --amount 12.5 --asset USDT --route V0`,
      ];
  const lines = [
    "",
    `== ${BANNER_READY} (ready in ${(f.elapsedMs / 1000).toFixed(1)} s) ==`,
    "",
    `  gRPC / Connect   ${f.coreUrl}`,
    `  REST             ${f.restUrl ?? "not available yet (the edge is not built); use the CLI or Connect"}`,
    `  TRON node        ${f.nodeUrl}${f.devnet ? " (local devnet)" : ""}`,
    `  database         ${f.databaseNote}`,
    "",
    `  admin API key    ${f.adminKey}`,
    "    A local demo: this key is shown here and nowhere else. Every run makes a new one",
    `    and revokes the one the run before printed${f.revokedKeyId ? ` (${f.revokedKeyId}, revoked now)` : ""}.`,
    "",
    `  payout wallet    ${f.payoutWallet.id}  ${f.payoutWallet.address}`,
    `                   ${f.fundingNote ?? "funded on the devnet: 10,000 TRX and 100,000 USDT"}`,
    "",
    "Create a payout:",
    ...create,
    "Watch it (use the id printed by create):",
    `  ${env} npx tronpay payouts watch <payout id>`,
    "",
    `Keystore: ${f.keystore}${f.keystoreCreated ? " (created now)" : ""}. Make an encrypted backup:`,
    `  TRONPAY_SIGNER_DATA_DIR=${f.signerDir} TRONPAY_SIGNER_PASSPHRASE_FILE=${f.passphraseFile} \\`,
    "    npx tronpay signer backup --out tronpay-keys.age",
    `Logs: ${f.logsDir}/{signer,core${f.restUrl ? ",edge" : ""}}.log`,
    "Ctrl-C stops everything; the next `npm start` resumes with the same data.",
    "",
  ];
  return lines.join("\n");
}
