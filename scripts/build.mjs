// npm run build (and the first step of npm start): src/ to JavaScript in dist/, one file per
// source file (esbuild transpiles only; `npm run typecheck` checks types), test helpers left
// out, then the files the built code reads from beside itself (the migrations). About a
// second, so npm start can build every time. `--outDir DIR` builds elsewhere (the build test).
import { cpSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const ROOT = new URL("../", import.meta.url).pathname;
const flag = process.argv.indexOf("--outDir");
const outDir = flag === -1 ? join(ROOT, "dist") : (process.argv[flag + 1] ?? "");
if (outDir === "") throw new Error("--outDir needs a directory");

/** Sources that only tests import: not shipped. */
const TEST_ONLY = /\.test\.ts$|\.fixture\.ts$|^signer\/testing\.ts$|^tron\/testing\.ts$/;
/** Non-TypeScript files the code reads at run time, relative to src/. */
const ASSET_DIRS = ["core/db/migrations"];

const src = join(ROOT, "src");
const entryPoints = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
  .map((e) => join(e.parentPath, e.name))
  .filter((file) => !TEST_ONLY.test(file.slice(src.length + 1)));

// Built beside the output and swapped in whole: a deleted source leaves no stale file behind,
// and a failed build leaves the previous output as it was.
const next = `${outDir}.next`;
rmSync(next, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: next,
  outbase: src,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
});
for (const dir of ASSET_DIRS) {
  const from = join(src, dir);
  for (const file of readdirSync(from)) cpSync(join(from, file), join(next, dir, file));
}
rmSync(outDir, { recursive: true, force: true });
renameSync(next, outDir);
