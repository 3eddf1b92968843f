// npm run check: buf lint, generated code is current, docs are current, typecheck, lint. The
// independent steps run at once (the typecheck alone takes most of the time); each step's output
// is printed when it ends, and the check exits non-zero naming every step that failed.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs one command, collecting its output; resolves true when it exits 0. */
function run(step: string, command: string, args: string[]): Promise<boolean> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const output: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => output.push(b));
    child.stderr.on("data", (b: Buffer) => output.push(b));
    child.on("error", (err) => output.push(Buffer.from(`${err.message}\n`)));
    child.on("close", (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const text = Buffer.concat(output).toString();
      if (text.trim() !== "") process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
      const ok = code === 0;
      console.log(`check: ${step} ${ok ? "ok" : "failed"} (${seconds} s)`);
      resolve(ok);
    });
  });
}

/** buf lint, then generation into a fresh directory compared with src/gen. */
async function generated(): Promise<boolean> {
  if (!(await run("buf lint", "npx", ["buf", "lint"]))) return false;
  const out = mkdtempSync(join(tmpdir(), "tronpay-gen-"));
  try {
    if (!(await run("buf generate (fresh copy)", "npx", ["buf", "generate", "-o", out])))
      return false;
    return await run("generated code is current", "diff", [
      "-r",
      "-q",
      "src/gen",
      join(out, "src/gen"),
    ]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const results = await Promise.all([
  run("typecheck", "npx", ["tsc", "--noEmit", "-p", "tsconfig.json"]),
  generated(),
  run("docs are current", "npx", ["tsx", "scripts/gen-docs.ts", "--check"]),
  run("biome", "npx", ["biome", "check", "."]),
]);
if (results.includes(false)) {
  console.error("check: failed");
  process.exit(1);
}
console.log("check: all ok");
