import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli as tronpay } from "../../test/helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/db.js";
import { parseDuration } from "./keys.js";

let db: TestDatabase;
let savedUrl: string | undefined;
beforeAll(async () => {
  db = await createTestDatabase();
  savedUrl = process.env.DATABASE_URL;
  process.env.DATABASE_URL = db.url;
}, 60_000);
afterAll(async () => {
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
  await db?.drop();
});

describe("tronpay keys", () => {
  it("creates a key, lists it, bootstraps nothing next to it, and revokes it", async () => {
    const created = await tronpay(
      ...["keys", "create", "--name", "ops", "--role", "operator", "--role", "auditor"],
      ...["--expires-in", "30d", "--allow-ip", "10.0.0.0/8"],
    );
    const id = /Created API key (\S+) \(ROLE_OPERATOR, ROLE_AUDITOR\)/.exec(created)?.[1];
    expect(id).toBeDefined();
    expect(created).toMatch(/shown only once:\n\n {2}\S{20,}\n/);

    const listed = await tronpay("keys", "list");
    expect(listed).toContain(`${id}  active  ROLE_OPERATOR,ROLE_AUDITOR  expires 20`);
    expect(listed).toContain("  ops\n");

    expect(await tronpay("keys", "bootstrap")).toBe("API keys exist already; nothing created.\n");

    expect(await tronpay("keys", "revoke", id ?? "", "--reason", "test")).toBe(
      `Revoked API key ${id}.\n`,
    );
    expect(await tronpay("keys", "list")).not.toContain(id);
    expect(await tronpay("keys", "list", "--all")).toContain(`${id}  revoked`);
  });

  it("creates a key that never expires without --expires-in", async () => {
    const created = await tronpay("keys", "create", "--name", "forever", "--role", "admin");
    const id = /Created API key (\S+)/.exec(created)?.[1];
    expect(await tronpay("keys", "list")).toContain(`${id}  active  ROLE_ADMIN  expires never`);
  });

  it("refuses an unknown role before touching the database", async () => {
    await expect(tronpay("keys", "create", "--name", "x", "--role", "superuser")).rejects.toThrow(
      /unknown role: superuser/,
    );
  });
});

describe("parseDuration", () => {
  it("reads minutes, hours, days and weeks", () => {
    expect(parseDuration("90m")).toBe(90 * 60_000);
    expect(parseDuration("12h")).toBe(12 * 3_600_000);
    expect(parseDuration(" 30d ")).toBe(30 * 86_400_000);
    expect(parseDuration("8w")).toBe(8 * 604_800_000);
  });

  it("refuses zero, a missing unit, seconds and too many digits", () => {
    for (const bad of ["0d", "10", "30s", "1234567h", "-1d", ""]) {
      expect(() => parseDuration(bad)).toThrow(/not a duration/);
    }
  });
});
