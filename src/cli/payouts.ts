import { randomUUID } from "node:crypto";
import { toJson } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import { Asset } from "../gen/tronpay/v1/common_pb.js";
import {
  type Payout,
  PayoutRoute,
  PayoutSchema,
  PayoutService,
  PayoutState,
} from "../gen/tronpay/v1/payout_pb.js";
import { parsePositiveAmount } from "../shared/money.js";
import { connectClient, resolveConnection } from "./client.js";
import { type ApiOptions, apiOptions, enumName, enumValue, json, print, table } from "./output.js";

/** States a payout never leaves. */
export const TERMINAL_STATES: ReadonlySet<PayoutState> = new Set([
  PayoutState.CONFIRMED,
  PayoutState.FAILED,
  PayoutState.CANCELLED,
]);

interface CreateOptions extends ApiOptions {
  wallet: string;
  to?: string;
  payee?: string;
  amount: string;
  asset: string;
  route: string;
  keyIdem?: string;
  memo?: string;
}

/** `tronpay payouts …`: create, get, list, cancel, approve and watch payouts through core. */
export function registerPayoutCommands(program: Command): void {
  const payouts = program.command("payouts").description("payouts (through core's API)");
  apiOptions(payouts.command("create").description("create a payout"))
    .requiredOption("--wallet <id>", "the wallet that pays")
    .option("--to <address>", "recipient TRON address (T…)")
    .option("--payee <tag>", "or a registered payee's tag")
    .requiredOption("--amount <decimal>", "amount in whole units, e.g. 12.5")
    .requiredOption("--asset <asset>", "USDT or TRX")
    .option("--route <route>", "V0, KYC or DIRECT", "V0")
    .option("--memo <text>", "memo written on chain")
    .option("--key-idem <key>", "idempotency key (default: a new one); reuse it to retry safely")
    .action(async (opts: CreateOptions) => {
      const { payout } = await client(opts).createPayout(createRequest(opts));
      show(opts, payout);
    });
  apiOptions(payouts.command("get <id>").description("show one payout")).action(
    async (id: string, opts: ApiOptions) => {
      show(opts, (await client(opts).getPayout({ id })).payout);
    },
  );
  apiOptions(payouts.command("list").description("list payouts, newest first"))
    .option("--state <state>", "only this state (repeatable)", collect, [])
    .option("--wallet <id>", "only this wallet")
    .option("--limit <n>", "how many", "50")
    .action(async (opts: ApiOptions & { state: string[]; wallet?: string; limit: string }) => {
      const states = opts.state.map((s) => parseEnum(PayoutState, s, "state"));
      const res = await client(opts).listPayouts({
        states,
        walletId: opts.wallet ?? "",
        page: { pageSize: Number(opts.limit) },
      });
      if (opts.json) print(json(res.payouts.map((p) => toJson(PayoutSchema, p))));
      else print(payoutTable(res.payouts));
    });
  apiOptions(payouts.command("cancel <id>").description("cancel a payout not yet signed"))
    .option("--reason <text>", "why (kept in the audit log)", "")
    .action(async (id: string, opts: ApiOptions & { reason: string }) => {
      const req = { idempotencyKey: randomUUID(), id, reason: opts.reason };
      show(opts, (await client(opts).cancelPayout(req)).payout);
    });
  apiOptions(payouts.command("approve <id>").description("approve a payout awaiting approval"))
    .option("--comment <text>", "kept in the audit log", "")
    .action(async (id: string, opts: ApiOptions & { comment: string }) => {
      const req = { idempotencyKey: randomUUID(), id, comment: opts.comment };
      show(opts, (await client(opts).approvePayout(req)).payout);
    });
  apiOptions(payouts.command("watch <id>").description("follow a payout until it is final"))
    .option("--interval <ms>", "poll interval", "1000")
    .action(async (id: string, opts: ApiOptions & { interval: string }) => {
      const final = await watchPayout(client(opts), id, Number(opts.interval), (p) => {
        if (!opts.json) print(`${new Date().toISOString()}  ${stateName(p.state)}\n`);
      });
      show(opts, final);
      if (final.state !== PayoutState.CONFIRMED) process.exitCode = 1;
    });
}

/** The CreatePayout request of the command's options; rejects bad input before any call. */
export function createRequest(opts: CreateOptions) {
  if ((opts.to === undefined) === (opts.payee === undefined)) {
    throw new Error("give exactly one of --to and --payee");
  }
  parsePositiveAmount(opts.amount);
  return {
    idempotencyKey: opts.keyIdem ?? randomUUID(),
    walletId: opts.wallet,
    recipient:
      opts.to !== undefined
        ? { case: "recipientAddress" as const, value: opts.to }
        : { case: "payeeTag" as const, value: opts.payee ?? "" },
    amount: { asset: parseEnum(Asset, opts.asset, "asset"), value: opts.amount },
    route: parseEnum(PayoutRoute, opts.route, "route"),
    ...(opts.memo !== undefined ? { memo: opts.memo } : {}),
  };
}

/** Polls a payout until it reaches a terminal state, calling `onChange` on each new state. */
export async function watchPayout(
  payouts: ReturnType<typeof client>,
  id: string,
  intervalMs: number,
  onChange: (p: Payout) => void,
): Promise<Payout> {
  let last: PayoutState | undefined;
  for (;;) {
    const { payout } = await payouts.getPayout({ id });
    if (!payout) throw new Error("core answered without a payout");
    if (payout.state !== last) onChange(payout);
    last = payout.state;
    if (TERMINAL_STATES.has(payout.state)) return payout;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function client(opts: ApiOptions) {
  return connectClient(PayoutService, resolveConnection(opts));
}

function show(opts: ApiOptions, payout: Payout | undefined): void {
  if (!payout) throw new Error("core answered without a payout");
  if (opts.json) print(json(toJson(PayoutSchema, payout)));
  else print(payoutTable([payout]));
}

/** People's view of payouts: one row each. */
export function payoutTable(payouts: readonly Payout[]): string {
  return table(
    ["ID", "STATE", "AMOUNT", "TO", "CREATED", "TX"],
    payouts.map((p) => [
      p.id,
      stateName(p.state),
      `${p.amount?.value ?? ""} ${p.amount ? enumName(Asset, p.amount.asset) : ""}`,
      p.recipientAddress || p.payeeTag,
      p.createdAt ? new Date(timestampMs(p.createdAt)).toISOString() : "",
      p.attempts.at(-1)?.txId ?? "",
    ]),
  );
}

function stateName(state: PayoutState): string {
  return enumName(PayoutState, state);
}

/** An enum value from a short name; throws naming the choices. */
export function parseEnum<E extends Record<string, string | number>>(
  e: E,
  name: string,
  what: string,
): number {
  const value = enumValue(e, name);
  if (value === undefined) {
    const choices = Object.keys(e).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
    throw new Error(`${what} must be one of ${choices.join(", ")}`);
  }
  return value;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
