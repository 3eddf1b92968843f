import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Client, ConnectError, createClient } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SIGNER_BATCH_MAX, signTransactions } from "../../src/core/kernel/signer-client.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import {
  IntentKind,
  SignerService,
  SignIntentSchema,
} from "../../src/gen/tronpay/signer/v1/signer_pb.js";
import { Asset } from "../../src/gen/tronpay/v1/common_pb.js";
import { parseAddress, toBase58 } from "../../src/shared/address.js";
import { unixSocketTransport } from "../../src/shared/connect.js";
import { reasonOf } from "../../src/shared/errors.js";
import { CheckpointJournal } from "../../src/signer/audit-checkpoints.js";
import { type SignerServer, serveSigner } from "../../src/signer/server.js";
import { rawBytes, testPolicy, testSigner } from "../../src/signer/testing.js";
import { newAccount } from "../../src/tron/testing.js";

let server: SignerServer;
let journal: CheckpointJournal;
let signer: Client<typeof SignerService>;
let owner = "";
/** The RPCs the client made, by name. */
let calls: string[] = [];

beforeEach(async () => {
  const {
    deps,
    dir,
    owner: o,
  } = await testSigner(
    { value: Date.now() },
    testPolicy({ maxPer24h: { TRX: 10n ** 15n, USDT: 0n } }),
  );
  owner = o;
  journal = CheckpointJournal.open(join(dir, "audit-checkpoints.log"), deps.keystore.auditSecret());
  server = await serveSigner(
    { ...deps, clock: Date.now, backupRecipients: [], checkpoints: journal },
    join(dir, "sock", "signer.sock"),
  );
  calls = [];
  signer = createClient(
    SignerService,
    unixSocketTransport(server.socketPath, [
      (next) => (req) => {
        calls.push(req.method.name);
        return next(req);
      },
    ]),
  );
});

afterEach(async () => {
  await server?.close();
  journal?.close();
});

function request(op: string, to: string, amount: bigint, declared = amount, offsetMs = 0) {
  return {
    intent: create(SignIntentSchema, {
      operationId: op,
      kind: IntentKind.TRX_TRANSFER,
      ownerAddress: owner,
      counterpartyAddress: to,
      asset: Asset.TRX,
      amount: declared.toString(),
    }),
    rawData: rawBytes(
      { type: "TransferContract", owner: parseAddress(owner), to: parseAddress(to), amount },
      Date.now() + offsetMs,
    ),
  };
}

/** What a caller can tell from a refusal. */
function refusal(err: unknown) {
  if (!(err instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${err}`);
  return {
    code: err.code,
    message: err.rawMessage,
    reason: reasonOf(err),
    metadata: err.findDetails(ErrorInfoSchema)[0]?.metadata,
  };
}

describe("core's SignTransactions helper", () => {
  it("splits a large batch into calls of 256, in order, with one result per item", async () => {
    const to = toBase58(newAccount().address);
    const items = Array.from({ length: 300 }, (_, i) => request(`c-${i}`, to, 1_000n + BigInt(i)));
    // The last item is a second transaction for the first item's operation: it is refused,
    // naming the first, because the first was signed in an earlier call.
    items.push(request("c-0", to, 1_000n, 1_000n, 5));
    const results = await signTransactions(signer, items);
    expect(results).toHaveLength(301);
    expect(calls).toEqual(["SignTransactions", "SignTransactions"]);
    expect(Math.ceil(items.length / SIGNER_BATCH_MAX)).toBe(calls.length);
    const signed = results.slice(0, 300);
    for (const r of signed) expect(r).not.toBeInstanceOf(ConnectError);
    const first = results[0] as Exclude<(typeof results)[number], ConnectError>;
    const last = refusal(results[300]);
    expect(last.reason).toBe("signer.replacement_refused");
    expect(last.metadata?.latest_tx_id).toBe(first.txId);
  });

  it("gives a refused item the same error SignTransaction gives the same request", async () => {
    const to = toBase58(newAccount().address);
    const base = request("r-1", to, 1_000n);
    await signer.signTransaction(base);
    const refusedItems = [
      request("r-2", to, 1_000n, 2n),
      request("r-1", to, 1_000n, 1_000n, 9),
      { ...request("r-3", to, 1n), rawData: Uint8Array.of(1, 2, 3) },
      { rawData: base.rawData },
    ];
    const viaBatch = (await signTransactions(signer, refusedItems)).map(refusal);
    const viaSingle: ReturnType<typeof refusal>[] = [];
    for (const item of refusedItems) {
      viaSingle.push(refusal(await signer.signTransaction(item).catch((e: unknown) => e)));
    }
    expect(viaBatch).toEqual(viaSingle);
    expect(viaBatch.map((r) => r.reason)).toEqual([
      "signer.intent_mismatch",
      "signer.replacement_refused",
      "signer.malformed_transaction",
      "request.invalid",
    ]);
  });
});
