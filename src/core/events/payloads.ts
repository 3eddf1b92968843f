import { z } from "zod";
import { decimal, intString, text } from "./fields.js";

/** Payload schemas that more than one event shares, or too long to read inline in the catalog. */

export const PayoutCreated = z
  .object({
    id: text("The payout id."),
    state: z.enum(["QUEUED", "AWAITING_APPROVAL"]).describe("The state it was created in."),
    asset: z.enum(["TRX", "USDT"]).describe("The asset."),
    amount: decimal("The amount paid."),
    recipient: text("The recipient's base58 address."),
    route: text("The route (V0, KYC, DIRECT)."),
    batchId: z.string().nullable().describe("Its batch, or null."),
  })
  .strict();

export const BatchCompleted = z
  .object({
    id: text("The batch id."),
    state: z
      .enum(["COMPLETED", "PARTIALLY_FAILED", "FAILED", "CANCELLED"])
      .describe("How the batch ended."),
    confirmed: z.number().int().describe("Payouts CONFIRMED."),
    failed: z.number().int().describe("Payouts FAILED."),
    cancelled: z.number().int().describe("Payouts CANCELLED."),
  })
  .strict();

export const TopUp = z
  .object({
    batchId: text("The batch the energy is for."),
    outcome: text("The decision (DELEGATED, NOT_NEEDED, NO_STAKE, CHAIN_ERROR, …)."),
    walletId: text("The payout wallet."),
    stakingWalletId: text("The staking wallet that delegates."),
    operationId: z.string().nullable().describe("The delegation operation, when one was made."),
    estimatedEnergy: intString("Energy the batch needs, when estimated.").nullable(),
    availableEnergy: intString("Energy the payout wallet has, when read.").nullable(),
    amount: decimal("TRX staked for the delegation (0 when none)."),
  })
  .strict();

export const EndpointChange = z
  .object({
    id: text("The endpoint id."),
    from: text("Its state before."),
    to: text("Its state now (ACTIVE, FAILING, DISABLED)."),
    deliveryId: text("The delivery whose outcome changed it."),
    status: z.number().int().describe("That attempt's HTTP status (0: no answer)."),
    error: text("That attempt's error, or empty."),
  })
  .strict();
export const Payee = <S extends z.ZodRawShape>(fields: S) =>
  z.object({ tag: text("The payee's tag."), ...fields }).strict();
export const address = text("The payee's address.");

export const OperationCreated = z
  .object({
    id: text("The operation id."),
    kind: text("The operation kind."),
    walletId: text("The wallet it acts for."),
    amount: decimal("The amount (TRX for staking, USDT for an approval)."),
    counterparty: text("The other address (receiver, spender), or empty."),
    resource: z
      .enum(["BANDWIDTH", "ENERGY"])
      .nullable()
      .describe("The staked or delegated resource, when it has one."),
    lockPeriodBlocks: intString("The delegation lock period in blocks (0: none)."),
  })
  .strict();

export const TransferDetected = z
  .object({
    asset: z.enum(["TRX", "USDT"]).describe("The asset."),
    txId: text("The transaction id."),
    logIndex: z.number().int().describe("The log's index in the transaction (0 for TRX)."),
    blockNumber: intString("The block."),
    from: text("The sender."),
    to: text("The receiver."),
    amount: decimal("The amount (a TRC-20 transfer may exceed what a payout can carry)."),
  })
  .strict();

export const ReconcileDiscrepancy = z
  .object({
    id: text("The payout id."),
    solidifiedBlock: intString("The solidified block it was checked against."),
    discrepancies: z
      .array(
        z
          .object({
            kind: z.enum(["STATE", "TX_NOT_FOUND", "NETWORK_COST", "MULTIPLE_INCLUDED"]),
            txId: z.string(),
            recorded: z.string(),
            observed: z.string(),
            corrected: z.boolean(),
          })
          .strict(),
      )
      .describe("What differed, and whether it was corrected."),
  })
  .strict();
