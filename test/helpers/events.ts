import type { CommonQueryMethods } from "slonik";
import { emitEvent, type OutboxEvent } from "../../src/core/kernel/outbox.js";

/** The event types the dispatch tests emit by hand, with a payload of the catalog's shape. */
export type SampleType =
  | "payout.created"
  | "payout.signed"
  | "payout.confirmed"
  | "transfer.detected";

/** A well-formed event of `type` about `subjectId` (a payout id, or a txID for a transfer). */
export function sampleEvent(type: SampleType, subjectId: string): OutboxEvent {
  switch (type) {
    case "payout.created":
      return {
        type,
        payload: {
          id: subjectId,
          state: "QUEUED",
          asset: "TRX",
          amount: "1",
          recipient: "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb",
          route: "V0",
          batchId: null,
        },
      };
    case "payout.signed":
      return { type, payload: { id: subjectId, kind: "PAYOUT", from: "QUEUED", to: "SIGNED" } };
    case "payout.confirmed":
      return {
        type,
        payload: { id: subjectId, kind: "PAYOUT", from: "BROADCAST", to: "CONFIRMED" },
      };
    case "transfer.detected":
      return {
        type,
        payload: {
          asset: "TRX",
          txId: subjectId,
          logIndex: 0,
          blockNumber: "1",
          from: "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb",
          to: "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb",
          amount: "1",
        },
      };
  }
}

/** Emits sampleEvent(type, subjectId) in `tx`; returns its event id. */
export function emitSample(
  tx: CommonQueryMethods,
  type: SampleType,
  subjectId: string,
): Promise<string> {
  const e = sampleEvent(type, subjectId);
  return emitEvent(tx, e.type, e.payload as never);
}
