import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { childCoverageEnv } from "../helpers/coverage.js";

const ROOT = new URL("../../", import.meta.url).pathname;
// A resolve hook that makes tronweb unloadable: whatever imports it at load time fails.
const HOOKS = `export async function resolve(s, c, next) {
  if (s === "tronweb" || s.startsWith("tronweb/")) throw new Error("tronweb was loaded");
  return next(s, c);
}`;
const REGISTER = `import { register } from "node:module";
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

describe("tronweb is loaded only to build", () => {
  it("core's chain module loads and creates a chain without loading tronweb", () => {
    const script = `import { createChain } from "./src/core/chain/index.ts";
import pino from "pino";
const chain = createChain({ nodeUrls: ["http://127.0.0.1:9"], usdtContract: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", log: pino({ level: "silent" }) });
process.stdout.write(chain.usdtContract);`;
    const out = execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--import",
        `data:text/javascript,${encodeURIComponent(REGISTER)}`,
        "--input-type=module",
        "-e",
        script,
      ],
      { cwd: ROOT, stdio: "pipe", env: { ...process.env, ...childCoverageEnv() } },
    ).toString();
    expect(out).toBe("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
  });
});
