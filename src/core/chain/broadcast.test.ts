import { describe, expect, it } from "vitest";
import { classifyBroadcastAnswer } from "./broadcast.js";

const TX = "ab".repeat(32);
const hexText = (s: string) => Buffer.from(s, "utf8").toString("hex");
const answer = (json: unknown) => classifyBroadcastAnswer({ ok: true, json }, TX);

describe("classifyBroadcastAnswer", () => {
  it("calls {result:true} with our txid accepted", () => {
    expect(answer({ result: true, txid: TX })).toEqual({ outcome: "accepted" });
  });

  it("calls DUP_TRANSACTION_ERROR a duplicate", () => {
    expect(
      answer({ code: "DUP_TRANSACTION_ERROR", txid: TX, message: hexText("Dup transaction.") }),
    ).toEqual({
      outcome: "duplicate",
    });
  });

  it("calls definitive codes rejected and decodes java-tron's hex message", () => {
    for (const code of [
      "SIGERROR",
      "CONTRACT_VALIDATE_ERROR",
      "TAPOS_ERROR",
      "TRANSACTION_EXPIRATION_ERROR",
    ]) {
      expect(answer({ code, txid: TX, message: hexText("Validate signature error") })).toEqual({
        outcome: "rejected",
        code,
        message: "Validate signature error",
      });
    }
  });

  it("calls SERVER_BUSY, OTHER_ERROR and unknown codes unknown, since the node may still accept it", () => {
    for (const code of ["SERVER_BUSY", "OTHER_ERROR", "NOT_ENOUGH_EFFECTIVE_CONNECTION"]) {
      const r = answer({ code, message: hexText("busy") });
      expect(r).toEqual({ outcome: "unknown", detail: `${code}: busy` });
    }
  });

  it("calls transport failures, non-objects, Error answers and a foreign txid unknown", () => {
    expect(classifyBroadcastAnswer({ ok: false, detail: "timed out" }, TX)).toEqual({
      outcome: "unknown",
      detail: "timed out",
    });
    expect(answer([1, 2]).outcome).toBe("unknown");
    expect(answer({ Error: "class java.lang.NullPointerException" }).outcome).toBe("unknown");
    expect(answer({}).outcome).toBe("unknown");
    expect(answer({ result: true, txid: "cd".repeat(32) }).outcome).toBe("unknown");
  });
});
