// npm run check: buf lint, generated code is current, typecheck, lint. Exits non-zero on the
// first failure and says which step failed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function run(step: string, command: string, args: string[]): void {
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`check: ${step} failed (${seconds} s)`);
    process.exit(1);
  }
  console.log(`check: ${step} ok (${seconds} s)`);
}

run("buf lint", "npx", ["buf", "lint"]);

const out = mkdtempSync(join(tmpdir(), "tronpay-gen-"));
try {
  run("buf generate (fresh copy)", "npx", ["buf", "generate", "-o", out]);
  run("generated code is current", "diff", ["-r", "-q", "src/gen", join(out, "src/gen")]);
} finally {
  rmSync(out, { recursive: true, force: true });
}

run("docs are current", "npx", ["tsx", "scripts/gen-docs.ts", "--check"]);
run("typecheck", "npx", ["tsc", "--noEmit", "-p", "tsconfig.json"]);
run("biome", "npx", ["biome", "check", "."]);
