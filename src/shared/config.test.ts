import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type ConfigSpec, describeConfig, loadConfig, parseFlags, zc } from "./config.js";
import { AppError } from "./errors.js";

const spec = {
  schema: z.object({
    port: zc.port().default(8080),
    host: z.string().default("127.0.0.1"),
    databaseUrl: z.string().min(1),
    verbose: zc.bool().default(false),
    nodes: zc.list().default([]),
  }),
  sources: {
    port: { env: "T_PORT", flag: "port" },
    host: { env: "T_HOST" },
    databaseUrl: { env: "DATABASE_URL", secret: true },
    verbose: { flag: "verbose" },
    nodes: { env: "T_NODES" },
  },
} satisfies ConfigSpec<z.AnyZodObject>;

function tempFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "tp-config-")), "config.json");
  writeFileSync(path, content);
  return path;
}

describe("loadConfig", () => {
  it("applies defaults, then file, then env, then flags", () => {
    const file = tempFile(
      JSON.stringify({ port: 7000, host: "file-host", databaseUrl: "from-file" }),
    );
    const env = { T_PORT: "7001", DATABASE_URL: "from-env" };
    expect(loadConfig(spec, { file })).toMatchObject({ port: 7000, host: "file-host" });
    expect(loadConfig(spec, { file, env })).toMatchObject({ port: 7001, databaseUrl: "from-env" });
    expect(loadConfig(spec, { file, env, flags: { port: "7002" } }).port).toBe(7002);
    expect(loadConfig(spec, { env: { DATABASE_URL: "x" } }).host).toBe("127.0.0.1");
  });

  it("returns a frozen object", () => {
    const config = loadConfig(spec, { env: { DATABASE_URL: "x", T_NODES: "a, b" } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.nodes)).toBe(true);
    expect(config.nodes).toEqual(["a", "b"]);
  });

  it("rejects invalid values with config.invalid naming the key but not the value", () => {
    try {
      loadConfig(spec, { env: { DATABASE_URL: "s3cr3t-value", T_PORT: "70000" } });
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).reason).toBe("config.invalid");
      expect((err as AppError).message).toContain("port");
      expect((err as AppError).message).not.toContain("s3cr3t-value");
    }
  });

  it("rejects a config file that is not a JSON object", () => {
    expect(() => loadConfig(spec, { file: tempFile("[1,2]") })).toThrow(AppError);
    expect(() => loadConfig(spec, { file: tempFile("{nope") })).toThrow(AppError);
  });

  it("redacts secret keys when described for the startup log", () => {
    const config = loadConfig(spec, { env: { DATABASE_URL: "postgres://u:pw@h/db" } });
    const described = describeConfig(spec, config);
    expect(described.databaseUrl).toBe("[redacted]");
    expect(described.port).toBe(8080);
  });
});

describe("parseFlags", () => {
  it("reads --a b, --a=b and bare --a", () => {
    expect(parseFlags(["positional", "--port", "1", "--host=h", "--verbose"])).toEqual({
      port: "1",
      host: "h",
      verbose: "true",
    });
  });
});
