import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { CommonQueryMethods } from "slonik";
import { z } from "zod";
import { type PauseState, PauseStateSchema } from "../../gen/tronpay/v1/admin_pb.js";
import { AppError } from "../../shared/errors.js";
import { appendAudit } from "../kernel/audit.js";
import { emitEvent } from "../kernel/outbox.js";
import { ensureSetting, settingFlag, settingValue, updateSetting } from "./settings-repo.js";

/**
 * The payout pause switch: settings row 'payouts_paused' holding
 * {paused, reason, by, at, resumed_by, resumed_at} (times in ms). Changes are audited, and
 * announced as payouts.paused / payouts.resumed, in the same transaction.
 */

const KEY = "payouts_paused";
const VALUE = z.object({
  paused: z.boolean(),
  reason: z.string().default(""),
  by: z.string().default(""),
  at: z.number().nullable().default(null),
  resumed_by: z.string().default(""),
  resumed_at: z.number().nullable().default(null),
});
type Value = z.infer<typeof VALUE>;
const NEVER_PAUSED: Value = VALUE.parse({ paused: false });

/** True while payouts are paused; the engine checks it before accepting or signing. */
export async function isPaused(db: CommonQueryMethods): Promise<boolean> {
  return (await settingFlag(db, KEY, "paused")) === true;
}

/** The switch as the API shows it. */
export async function getPauseState(db: CommonQueryMethods): Promise<PauseState> {
  return toPauseState(await readValue(db, false));
}

/** Pauses payouts; when already paused, keeps the first pause and writes nothing. */
export async function pausePayouts(
  tx: CommonQueryMethods,
  input: { by: string; reason: string; now: number },
): Promise<PauseState> {
  const reason = input.reason.trim();
  if (reason.length < 1 || reason.length > 500) {
    throw new AppError("request.invalid", "reason must be 1–500 characters", {
      metadata: { field: "reason" },
    });
  }
  const current = await readValue(tx, true);
  if (current.paused) return toPauseState(current);
  const next: Value = { ...current, paused: true, reason, by: input.by, at: input.now };
  // A new pause starts a new record: the last resume belongs to the previous one.
  next.resumed_by = "";
  next.resumed_at = null;
  await writeValue(tx, next, input.by, input.now);
  await appendAudit(tx, {
    actor: input.by,
    action: "payouts.pause",
    subject: "payouts",
    details: { reason },
  });
  await emitEvent(tx, "payouts.paused", { pausedBy: input.by, reason });
  return toPauseState(next);
}

/** Ends a pause; when not paused, writes nothing. */
export async function resumePayouts(
  tx: CommonQueryMethods,
  input: { by: string; now: number },
): Promise<PauseState> {
  const current = await readValue(tx, true);
  if (!current.paused) return toPauseState(current);
  const next: Value = { ...current, paused: false, resumed_by: input.by, resumed_at: input.now };
  await writeValue(tx, next, input.by, input.now);
  await appendAudit(tx, {
    actor: input.by,
    action: "payouts.resume",
    subject: "payouts",
    details: { paused_by: current.by, reason: current.reason },
  });
  await emitEvent(tx, "payouts.resumed", {
    resumedBy: input.by,
    pausedBy: current.by,
    reason: current.reason,
  });
  return toPauseState(next);
}

async function readValue(db: CommonQueryMethods, forUpdate: boolean): Promise<Value> {
  if (forUpdate) {
    // Make sure the row exists so that FOR UPDATE serializes concurrent pauses and resumes.
    await ensureSetting(db, KEY, NEVER_PAUSED);
  }
  const value = await settingValue(db, KEY, forUpdate);
  return value === null ? NEVER_PAUSED : VALUE.parse(value);
}

async function writeValue(db: CommonQueryMethods, value: Value, by: string, now: number) {
  await updateSetting(db, KEY, value, by, now);
}

function toPauseState(v: Value): PauseState {
  return create(PauseStateSchema, {
    paused: v.paused,
    reason: v.reason,
    pausedBy: v.by,
    pausedAt: v.at === null ? undefined : timestampFromMs(v.at),
    resumedBy: v.resumed_by,
    resumedAt: v.resumed_at === null ? undefined : timestampFromMs(v.resumed_at),
  });
}
