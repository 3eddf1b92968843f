import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { catalog, catalogEntries } from "./error-catalog.js";
import { AppError, httpStatusOf, reasonOf, toConnectError } from "./errors.js";

const root = new URL("../../", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "gen" ? [] : sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("the error catalog", () => {
  it("lists each reason once", () => {
    const reasons = catalogEntries.map(([reason]) => reason);
    expect(new Set(reasons).size).toBe(reasons.length);
  });

  it("documents every reason and names it domain.snake_case", () => {
    for (const [reason, , doc] of catalogEntries) {
      expect(reason).toMatch(/^[a-z]+(\.[a-z_]+)?$/);
      expect(doc.trim().length).toBeGreaterThan(10);
    }
  });

  it("maps every reason used in src/ (outside generated code)", () => {
    const used = new Set<string>();
    for (const file of sourceFiles(join(root, "src"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/AppError\(\s*"([^"]+)"/g)) used.add(m[1] as string);
    }
    expect(used.size).toBeGreaterThan(0);
    const unmapped = [...used].filter((reason) => !(reason in catalog));
    expect(unmapped).toEqual([]);
  });

  it("maps every hold and failure reason clients are shown, not only AppError's", () => {
    // A "<room>.<snake>" literal where a reason goes: a failure, hold or last_error field, a
    // `reason` field, or what a function returns (funds.ts answers hold reasons so). Event
    // types and audit actions share the shape but sit under `type:`/`action:`, not here.
    const rooms = new Set(catalogEntries.map(([reason]) => reason.split(".")[0]));
    const reasonAt =
      /(?:(?:failureReason|holdReason|lastError|last_error|reason)\s*:\s*|return\s+|\?\s*)"([a-z]+\.[a-z_]+)"/g;
    const used = new Map<string, string>();
    for (const file of sourceFiles(join(root, "src"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(reasonAt)) {
        const reason = m[1] as string;
        if (rooms.has(reason.split(".")[0])) used.set(reason, file.slice(root.length));
      }
    }
    // The scan must see the reasons known to be used this way, or it proves nothing.
    for (const known of ["wallet.insufficient_usdt", "payout.attempts_exhausted"])
      expect(used.has(known)).toBe(true);
    const unmapped = [...used].filter(([reason]) => !(reason in catalog));
    expect(unmapped).toEqual([]);
  });

  it("derives HTTP statuses from the gRPC code table", () => {
    expect(httpStatusOf("request.invalid")).toBe(400);
    expect(httpStatusOf("request.not_found")).toBe(404);
    expect(httpStatusOf("auth.unauthenticated")).toBe(401);
    expect(httpStatusOf("auth.permission_denied")).toBe(403);
    expect(httpStatusOf("auth.rate_limited")).toBe(429);
    expect(httpStatusOf("internal")).toBe(500);
  });
});

describe("toConnectError", () => {
  it("carries the stable reason in an ErrorInfo detail and keeps the message", () => {
    const err = toConnectError(
      new AppError("payout.limit_exceeded", "over the daily limit", { metadata: { route: "V0" } }),
    );
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toBe("over the daily limit");
    expect(reasonOf(err)).toBe("payout.limit_exceeded");
  });

  it("hides unexpected errors behind a generic internal error, keeping the cause", () => {
    const original = new Error("connection string postgres://user:pw@host/db refused");
    const err = toConnectError(original);
    expect(err.code).toBe(Code.Internal);
    expect(err.message).not.toContain("postgres://");
    expect(err.cause).toBe(original);
  });

  it("passes ConnectErrors through unchanged", () => {
    const err = new ConnectError("nope", Code.Unimplemented);
    expect(toConnectError(err)).toBe(err);
  });
});
