import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import { toBase58 } from "../../shared/address.js";
import { unixSocketClient } from "../../shared/connect.js";
import { AppError } from "../../shared/errors.js";
import { CheckpointJournal } from "../../signer/audit-checkpoints.js";
import { createSignerHandlers } from "../../signer/handlers.js";
import { testPolicy, testSigner } from "../../signer/testing.js";
import { newAccount } from "../../tron/testing.js";
import { createSignerPolicyView, refuseWhatSignerRefuses } from "./signer-policy.js";

// Core's copy of the signer's policy, read from the real signer handlers (in process): what
// the signer would refuse is refused with its reason and rule, a key derived since the last
// read is asked about again, and an unreachable signer is not asked on every request.
const T0 = 1_800_000_000_000;

async function signerClient(policy = testPolicy()) {
  const now = { value: T0 };
  const signer = await testSigner(now, policy);
  const checkpoints = CheckpointJournal.open(
    join(signer.dir, "audit-checkpoints.log"),
    signer.deps.keystore.auditSecret(),
    () => now.value,
  );
  const handlers = createSignerHandlers({ ...signer.deps, backupRecipients: [], checkpoints });
  const transport = createRouterTransport(({ service }) => service(SignerService, handlers));
  return { ...signer, now, client: createClient(SignerService, transport) };
}

async function reason(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "allowed",
    (err: unknown) => (err instanceof AppError ? `${err.reason}/${err.metadata.rule}` : "other"),
  );
}

describe("the signer policy view", () => {
  it("refuses memos, recipients off the allowlist and caps as the signer names them", async () => {
    const listed = toBase58(newAccount().address);
    const { client, now } = await signerClient(
      testPolicy({ allowlist: [listed], maxPerTx: { TRX: 5n, USDT: 5n } }),
    );
    const view = createSignerPolicyView({
      signer: client,
      log: pino({ level: "silent" }),
      clock: () => now.value,
      maxAgeMs: 10_000,
    });
    const check = (counterparty: string, amount: bigint, memo = "") =>
      reason(
        refuseWhatSignerRefuses(view, { kind: "USDT_TRANSFER", counterparty, amount, memo }, T0),
      );
    expect(await check(listed, 5n)).toBe("allowed");
    expect(await check(listed, 5n, "hi")).toBe("signer.policy_denied/memo");
    expect(await check(toBase58(newAccount().address), 5n)).toBe("signer.policy_denied/allowlist");
    expect(await check(listed, 6n)).toBe("signer.policy_denied/max_per_tx");
  });

  it("asks the signer again about an allowance to a key derived after it last read the keys", async () => {
    const { client, now, deps } = await signerClient();
    const view = createSignerPolicyView({
      signer: client,
      log: pino({ level: "silent" }),
      clock: () => now.value,
      maxAgeMs: 10_000,
    });
    await view.current();
    const fresh = await deps.keystore.derive(0, "derived later");
    const approve = (spender: string) =>
      reason(
        refuseWhatSignerRefuses(
          view,
          { kind: "USDT_APPROVE", counterparty: spender, amount: 1n, memo: "" },
          T0,
        ),
      );
    expect(await approve(fresh.address)).toBe("allowed");
    expect(await approve(toBase58(newAccount().address))).toBe(
      "signer.policy_denied/approve_spender",
    );
  });

  it("does not ask an unreachable signer again on every request", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tp-nosigner-"));
    const warnings: string[] = [];
    const log = pino(
      { level: "warn" },
      {
        write: (line: string) => {
          warnings.push(line);
        },
      },
    );
    const now = { value: T0 };
    const view = createSignerPolicyView({
      signer: unixSocketClient(SignerService, join(dir, "absent.sock")),
      log,
      clock: () => now.value,
      maxAgeMs: 10_000,
    });
    for (let i = 0; i < 3; i++) expect(await view.current()).toBeUndefined();
    expect(warnings).toHaveLength(1);
    now.value += 10_000;
    expect(await view.current()).toBeUndefined();
    expect(warnings).toHaveLength(2);
  });
});
