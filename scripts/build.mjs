// npm run build (and the first step of npm start): src/ to JavaScript in dist/, one file per
// source file (esbuild transpiles only; `npm run typecheck` checks types), test helpers left
// out, then the files the built code reads from beside itself (the migrations). About a
// second. `--outDir DIR` builds elsewhere (the build test); `--if-changed` (npm start) skips
// the build when no input has changed since the last one.
import {
  cpSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const ROOT = new URL("../", import.meta.url).pathname;
const flag = process.argv.indexOf("--outDir");
const outDir = flag === -1 ? join(ROOT, "dist") : (process.argv[flag + 1] ?? "");
if (outDir === "") throw new Error("--outDir needs a directory");

/** Sources that only tests import: not shipped. */
const TEST_ONLY = /\.test\.ts$|\.fixture\.ts$|(^|\/)testing\.ts$|(^|\/)fixtures\//;
/** Non-TypeScript files the code reads at run time, relative to src/. */
const ASSET_DIRS = ["core/db/migrations"];
/** What the last build was made from (each input's size and mtime), inside its output. */
const STAMP = ".inputs.json";

const src = join(ROOT, "src");
const entryPoints = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
  .map((e) => join(e.parentPath, e.name))
  .filter((file) => !TEST_ONLY.test(file.slice(src.length + 1)));
const assets = ASSET_DIRS.flatMap((dir) =>
  readdirSync(join(src, dir)).map((file) => join(src, dir, file)),
);

/** Every input with its size and mtime: a different list means a different build. */
const inputs = JSON.stringify(
  [...entryPoints, ...assets, new URL(import.meta.url).pathname, join(ROOT, "package-lock.json")]
    .sort()
    .map((file) => {
      const s = statSync(file);
      return [file, s.size, s.mtimeMs];
    }),
);
const previous = (() => {
  try {
    return readFileSync(join(outDir, STAMP), "utf8");
  } catch {
    return "";
  }
})();
if (process.argv.includes("--if-changed") && previous === inputs) process.exit(0);

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
for (const file of assets) cpSync(file, join(next, file.slice(src.length + 1)));
writeFileSync(join(next, STAMP), inputs);
rmSync(outDir, { recursive: true, force: true });
renameSync(next, outDir);
