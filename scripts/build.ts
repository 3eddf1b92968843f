// npm run build: compiles src/ into dist/ (tsconfig.build.json, test helpers left out), then
// copies what the built code reads from beside itself: the migrations. `--outDir DIR` builds
// elsewhere (the build test does).
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
const flag = process.argv.indexOf("--outDir");
const outDir = flag === -1 ? join(ROOT, "dist") : (process.argv[flag + 1] ?? "");
if (outDir === "") throw new Error("--outDir needs a directory");

execFileSync(
  process.execPath,
  [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", outDir],
  { cwd: ROOT, stdio: "inherit" },
);

/** Non-TypeScript files the code reads at run time, relative to src/. */
const ASSET_DIRS = ["core/db/migrations"];
for (const dir of ASSET_DIRS) {
  const from = join(ROOT, "src", dir);
  for (const file of readdirSync(from)) cpSync(join(from, file), join(outDir, dir, file));
}
