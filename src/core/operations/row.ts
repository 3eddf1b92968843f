import { z } from "zod";
import { OPERATION_STATES } from "../engine/state.js";
import { OPERATION_KINDS } from "./kinds.js";

/**
 * The operations row: one schema for every reader (the engine, the operations API, payouts),
 * each picking the columns it selects. Enumerated columns parse as the unions the code
 * switches over, so an unknown kind or state fails at the row, not deep in a dispatch.
 */
export const OperationRecord = z.object({
  id: z.string(),
  kind: z.enum(OPERATION_KINDS),
  state: z.enum(OPERATION_STATES),
  asset: z.enum(["TRX", "USDT"]),
  amount: z.bigint(),
  wallet_id: z.string(),
  owner_address: z.string(),
  counterparty_address: z.string(),
  resource: z.enum(["BANDWIDTH", "ENERGY"]).nullable(),
  lock_period_blocks: z.bigint(),
  memo: z.string(),
  priority: z.number(),
  hold_reason: z.string().nullable(),
  failure_reason: z.string().nullable(),
  failure_detail: z.string().nullable(),
  next_run_at: z.number(),
  created_by: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  confirmed_at: z.number().nullable(),
  // What the chain charged, read back from the receipt.
  fee_sun: z.bigint().nullable(),
  energy_used: z.bigint().nullable(),
  bandwidth_used: z.bigint().nullable(),
  activated_recipient: z.boolean().nullable(),
});
export type OperationRecord = z.infer<typeof OperationRecord>;
