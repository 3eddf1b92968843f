import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundledMigrations } from "../../src/core/db/migrate.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), "tp-build-"));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every file under dir, as paths relative to it. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe("npm run build", () => {
  it("ships the migrations with the built core and leaves test helpers out", async () => {
    execFileSync("npm", ["run", "build", "--", "--outDir", out], { cwd: ROOT, stdio: "pipe" });
    const built = files(out);
    expect(built).toContain("core/app/main.js");
    expect(built.filter((f) => /(^|\/)testing\.js$|\.fixture\.js$|\.test\.js$/.test(f))).toEqual(
      [],
    );
    const dist = (await import(join(out, "core/db/migrate.js"))) as {
      bundledMigrations: typeof bundledMigrations;
    };
    const shipped = dist.bundledMigrations().map((m) => [m.version, m.checksum]);
    expect(shipped).toEqual(bundledMigrations().map((m) => [m.version, m.checksum]));
  }, 180_000);

  it("with --if-changed (npm start), builds again only when an input changed", () => {
    const build = (...flags: string[]) =>
      execFileSync("node", ["scripts/build.mjs", "--outDir", out, ...flags], { cwd: ROOT });
    build();
    const marker = join(out, "marker");
    writeFileSync(marker, "");
    build("--if-changed");
    expect(existsSync(marker)).toBe(true);
    // What the last build was made from, as if a source had changed since.
    const stamp = join(out, ".inputs.json");
    writeFileSync(stamp, readFileSync(stamp, "utf8").replace(/\d+(\.\d+)?\]/, "1]"));
    build("--if-changed");
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(out, "core/app/main.js"))).toBe(true);
    writeFileSync(marker, "");
    build();
    expect(existsSync(marker)).toBe(false);
  }, 180_000);
});
