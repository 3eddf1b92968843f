import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { hex } from "@scure/base";
import { HDKey } from "@scure/bip32";
import { mnemonicToSeedSync } from "@scure/bip39";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import {
  IntentKind,
  SignerService,
  SignIntentSchema,
} from "../../src/gen/tronpay/signer/v1/signer_pb.js";
import { Asset } from "../../src/gen/tronpay/v1/common_pb.js";
import { parseAddress, toBase58 } from "../../src/shared/address.js";
import { unixSocketClient } from "../../src/shared/connect.js";
import { reasonOf } from "../../src/shared/errors.js";
import { Keystore, tronPath } from "../../src/signer/keystore.js";
import { recoverSigner } from "../../src/tron/signature.js";
import { newAccount, rawWith } from "../../src/tron/testing.js";
import { encodeTransactionRaw } from "../../src/tron/transaction.js";
import { newTestAccount, startTestDevnet, TRX } from "../devnet/helpers.js";
import { startProcess, type TestProcess } from "../helpers/process.js";

const dir = mkdtempSync(join(tmpdir(), "tp-signer-it-"));
const dataDir = join(dir, "signer");
const socket = join(dataDir, "signer.sock");
const passphrase = randomBytes(24).toString("base64url");
const usdt = toBase58(newAccount().address);
let mnemonic = "";
let signer: TestProcess;
let client: Client<typeof SignerService>;
let owner = "";
const env = {
  TRONPAY_SIGNER_DATA_DIR: dataDir,
  TRONPAY_SIGNER_PASSPHRASE: passphrase,
  TRONPAY_SIGNER_SCRYPT_LOG_N: "4",
  TRONPAY_USDT_CONTRACT: usdt,
  TRONPAY_SIGNER_MAX_PER_24H_TRX: "1000",
};

function start(): TestProcess {
  signer = startProcess("src/signer/main.ts", env);
  return signer;
}

function transfer(to: string, amountSun: bigint, offsetMs = 0): Uint8Array {
  const now = Date.now() + offsetMs;
  return encodeTransactionRaw(
    rawWith(
      {
        type: "TransferContract",
        owner: parseAddress(owner),
        to: parseAddress(to),
        amount: amountSun,
      },
      { timestamp: BigInt(now), expiration: BigInt(now + 60_000) },
    ),
  );
}

function intent(operationId: string, to: string, amountSun: bigint) {
  return create(SignIntentSchema, {
    operationId,
    kind: IntentKind.TRX_TRANSFER,
    ownerAddress: owner,
    counterpartyAddress: to,
    asset: Asset.TRX,
    amount: amountSun.toString(),
  });
}

beforeAll(async () => {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  ({ mnemonic } = await Keystore.create(join(dataDir, "keystore.age"), {
    passphrase,
    scryptLogN: 4,
  }));
  await start().waitForLog("signer ready");
  client = unixSocketClient(SignerService, socket);
  owner = (await client.deriveKey({ account: 0, label: "payout" })).address;
}, 30_000);

afterAll(async () => {
  await signer?.stop();
});

describe("the signer process", () => {
  it("signs a valid transfer, and the signature recovers to the owner", async () => {
    const to = toBase58(newAccount().address);
    const raw = transfer(to, 1_000_000n);
    const res = await client.signTransaction({
      intent: intent("it-1", to, 1_000_000n),
      rawData: raw,
    });
    expect(toBase58(recoverSigner(res.txId, res.signature))).toBe(owner);
    expect(res.journalSeq).toBeGreaterThan(0n);
  });

  it("answers refusals with their stable reason over the socket", async () => {
    const to = toBase58(newAccount().address);
    const err = await client
      .signTransaction({ intent: intent("it-2", to, 2n), rawData: transfer(to, 1_000_000n) })
      .catch((e) => e);
    expect(reasonOf(err)).toBe("signer.intent_mismatch");
    const garbage = await client
      .signTransaction({ intent: intent("it-3", to, 1n), rawData: Uint8Array.of(1, 2, 3) })
      .catch((e) => e);
    expect(reasonOf(garbage)).toBe("signer.malformed_transaction");
    const noIntent = await client.signTransaction({ rawData: transfer(to, 1n) }).catch((e) => e);
    expect(reasonOf(noIntent)).toBe("request.invalid");
  });

  it("listens on a 0600 socket in a 0700 directory and opens no TCP socket", () => {
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const pid = signer.child.pid as number;
    const inodes = readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return "";
        }
      })
      .map((link) => /^socket:\[(\d+)\]$/.exec(link)?.[1])
      .filter((x): x is string => x !== undefined);
    expect(inodes.length).toBeGreaterThan(0);
    const tcp = ["/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"]
      .flatMap((f) => readFileSync(f, "utf8").split("\n").slice(1))
      .map((line) => line.trim().split(/\s+/)[9])
      .filter(Boolean);
    expect(inodes.filter((i) => tcp.includes(i))).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)(
    "refuses a connection from another user (run as root, tried as nobody)",
    () => {
      const probe = `require("net").connect(${JSON.stringify(socket)}).on("connect",()=>{console.log("CONNECTED");process.exit(0)}).on("error",e=>{console.log(e.code);process.exit(0)})`;
      const out = execFileSync("runuser", ["-u", "nobody", "--", process.execPath, "-e", probe], {
        encoding: "utf8",
      }).trim();
      expect(out).toBe("EACCES");
    },
  );

  it("keeps its journal and caps across a restart", async () => {
    const to = toBase58(newAccount().address);
    const raw = transfer(to, 600_000_000n);
    const first = await client.signTransaction({
      intent: intent("cap-1", to, 600_000_000n),
      rawData: raw,
    });
    await signer.kill9();
    await start().waitForLog("signer ready");
    const again = await client.signTransaction({
      intent: intent("cap-1", to, 600_000_000n),
      rawData: raw,
    });
    expect(again.reused).toBe(true);
    expect(hex.encode(again.signature)).toBe(hex.encode(first.signature));
    const over = await client
      .signTransaction({
        intent: intent("cap-2", to, 600_000_000n),
        rawData: transfer(to, 600_000_000n, 1),
      })
      .catch((e) => e);
    expect(reasonOf(over)).toBe("signer.policy_denied");
  }, 30_000);

  it("loses no answered signature when killed with SIGKILL during a burst", async () => {
    const answered: { op: string; amount: bigint; raw: Uint8Array; sig: string }[] = [];
    const to = toBase58(newAccount().address);
    const total = 20_000;
    let next = 0;
    let failures = 0;
    // 64 callers in a steady stream, so that requests are in flight when the kill lands.
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const amount = 1_000n + BigInt(i);
        const raw = transfer(to, amount, i);
        try {
          const res = await client.signTransaction({
            intent: intent(`burst-${i}`, to, amount),
            rawData: raw,
          });
          answered.push({ op: `burst-${i}`, amount, raw, sig: hex.encode(res.signature) });
        } catch {
          failures++;
          return;
        }
      }
    };
    const workers = Array.from({ length: 64 }, worker);
    const deadline = Date.now() + 20_000;
    while (answered.length < 300 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    await signer.kill9();
    await Promise.all(workers);
    await start().waitForLog("signer ready");
    expect(answered.length).toBeGreaterThanOrEqual(300);
    expect(failures).toBeGreaterThan(0);
    for (const a of answered) {
      const res = await client.signTransaction({
        intent: intent(a.op, to, a.amount),
        rawData: a.raw,
      });
      expect(res.reused).toBe(true);
      expect(hex.encode(res.signature)).toBe(a.sig);
    }
  }, 90_000);

  it("signs a batch item by item over the socket: good ones signed, bad ones refused with their reason", async () => {
    const to = toBase58(newAccount().address);
    const good = transfer(to, 1_000n, 7);
    const { results } = await client.signTransactions({
      items: [
        { intent: intent("batch-1", to, 1_000n), rawData: good },
        { intent: intent("batch-2", to, 2n), rawData: transfer(to, 1_000n, 8) },
        { intent: intent("batch-3", to, 1n), rawData: Uint8Array.of(1, 2, 3) },
        { rawData: transfer(to, 1n, 9) },
        { intent: intent("batch-1", to, 1_000n), rawData: good },
        { intent: intent("batch-4", to, 3_000n), rawData: transfer(to, 3_000n, 10) },
      ],
    });
    expect(
      results.map((r) => (r.result.case === "error" ? r.result.value.reason : "signed")),
    ).toEqual([
      "signed",
      "signer.intent_mismatch",
      "signer.malformed_transaction",
      "request.invalid",
      "signed",
      "signed",
    ]);
    const [first, , , invalid, repeat, last] = results.map((r) => r.result);
    if (first?.case !== "signed" || repeat?.case !== "signed" || last?.case !== "signed")
      throw new Error("expected signatures");
    expect(toBase58(recoverSigner(first.value.txId, first.value.signature))).toBe(owner);
    expect(repeat.value).toMatchObject({ reused: true, journalSeq: first.value.journalSeq });
    expect(last.value.journalSeq).toBe(first.value.journalSeq + 1n);
    expect(invalid?.case === "error" && invalid.value.metadata.field).toBe("intent");
    // Each signature is journaled: asked again one at a time, each comes back reused.
    const again = await client.signTransaction({
      intent: intent("batch-1", to, 1_000n),
      rawData: good,
    });
    expect(again).toMatchObject({ reused: true, journalSeq: first.value.journalSeq });
  });

  it("refuses an empty batch and one over 256 items as a whole, naming the field", async () => {
    const to = toBase58(newAccount().address);
    const item = (i: number) => ({
      intent: intent(`over-${i}`, to, 1n),
      rawData: transfer(to, 1n, i),
    });
    const over = await client
      .signTransactions({ items: Array.from({ length: 257 }, (_, i) => item(i)) })
      .catch((e) => e);
    expect(reasonOf(over)).toBe("request.invalid");
    expect(over.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe("items");
    expect(reasonOf(await client.signTransactions({ items: [] }).catch((e) => e))).toBe(
      "request.invalid",
    );
    // Nothing of the refused call was signed: its first item is new to the signer.
    const first = await client.signTransaction(item(0));
    expect(first.reused).toBe(false);
    const full = await client.signTransactions({
      items: Array.from({ length: 256 }, (_, i) => item(1_000 + i)),
    });
    expect(full.results.filter((r) => r.result.case === "signed")).toHaveLength(256);
  });

  it("loses no answered batch signature when killed with SIGKILL during a burst of batches", async () => {
    const answered: { op: string; amount: bigint; raw: Uint8Array; sig: string }[] = [];
    const to = toBase58(newAccount().address);
    const batches = 400;
    let next = 0;
    let failures = 0;
    const worker = async () => {
      while (next < batches) {
        const b = next++;
        const items = Array.from({ length: 16 }, (_, k) => {
          const i = b * 16 + k;
          const amount = 1_000n + BigInt(i);
          return { op: `kb-${i}`, amount, raw: transfer(to, amount, 100_000 + i) };
        });
        try {
          const { results } = await client.signTransactions({
            items: items.map((x) => ({ intent: intent(x.op, to, x.amount), rawData: x.raw })),
          });
          for (const [k, r] of results.entries()) {
            if (r.result.case !== "signed") throw new Error(`refused ${r.result.value?.reason}`);
            answered.push({
              ...(items[k] as (typeof items)[number]),
              sig: hex.encode(r.result.value.signature),
            });
          }
        } catch {
          failures++;
          return;
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    const deadline = Date.now() + 20_000;
    while (answered.length < 320 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    await signer.kill9();
    await Promise.all(workers);
    await start().waitForLog("signer ready");
    expect(answered.length).toBeGreaterThanOrEqual(320);
    expect(failures).toBeGreaterThan(0);
    for (let i = 0; i < answered.length; i += 256) {
      const chunk = answered.slice(i, i + 256);
      const { results } = await client.signTransactions({
        items: chunk.map((a) => ({ intent: intent(a.op, to, a.amount), rawData: a.raw })),
      });
      for (const [k, r] of results.entries()) {
        if (r.result.case !== "signed") throw new Error(`refused ${r.result.value?.reason}`);
        expect(r.result.value.reused).toBe(true);
        expect(hex.encode(r.result.value.signature)).toBe(chunk[k]?.sig);
      }
    }
  }, 90_000);

  it("signs a transfer built by tronweb, and the devnet accepts it", async () => {
    const net = await startTestDevnet();
    try {
      net.devnet.admin.fund(owner, { trx: 100n * TRX });
      net.solidify();
      const to = newTestAccount().address;
      const tronWeb = net.tronWeb();
      const tx = await tronWeb.transactionBuilder.sendTrx(to, 2_000_000, owner);
      const res = await client.signTransaction({
        intent: intent("tronweb-1", to, 2_000_000n),
        rawData: hex.decode(tx.raw_data_hex),
      });
      expect(res.txId).toBe(tx.txID);
      const sent = await tronWeb.trx.sendRawTransaction({
        ...tx,
        signature: [hex.encode(res.signature)],
      });
      expect(sent.result).toBe(true);
      net.solidify();
      expect(BigInt(await tronWeb.trx.getBalance(to))).toBe(2_000_000n);
    } finally {
      await net.stop();
    }
  }, 30_000);

  it("never shows key material in its logs or answers", async () => {
    const { keys } = await client.listKeys({});
    const root = HDKey.fromMasterSeed(mnemonicToSeedSync(mnemonic));
    const secrets = keys.map((k) =>
      hex.encode(root.derive(tronPath(k.account, k.index)).privateKey as Uint8Array),
    );
    const backup = await client.exportBackup({});
    const policy = await client.getPolicy({});
    const haystack = [
      ...signer.lines,
      JSON.stringify(keys, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
      hex.encode(backup.backup),
      Buffer.from(backup.backup).toString("latin1"),
      JSON.stringify(policy, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
    ].join("\n");
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(haystack.toLowerCase()).not.toContain(secret);
    expect(haystack).not.toContain(mnemonic);
    expect(haystack).not.toContain(mnemonic.split(" ").slice(0, 4).join(" "));
    expect(haystack).not.toContain(passphrase);
  });
});
