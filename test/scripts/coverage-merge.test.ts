import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CoverageJson,
  c8ReportArgs,
  type FileCoverage,
  keepSourceDumps,
  mergeCoverage,
  percent,
  total,
} from "../../scripts/coverage-merge.js";

// scripts/coverage.ts's child side for real: processes run our sources with NODE_V8_COVERAGE,
// from the sources through tsx and built with esbuild's source map (as dist/ is), and c8 maps
// their dumps back to src/.

const ROOT = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "tp-coverage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The 1-based line of `src/<file>` holding `text`. */
function lineOf(file: string, text: string): number {
  const index = readFileSync(join(ROOT, "src", file), "utf8")
    .split("\n")
    .findIndex((l) => l.includes(text));
  if (index < 0) throw new Error(`${text} not in ${file}`);
  return index + 1;
}

/** One file's coverage with a statement and a function per [line, hits]. */
function fileWith(lines: [number, number][]): FileCoverage {
  const loc = (line: number) => ({ start: { line, column: 0 }, end: { line, column: 9 } });
  const byId = <T>(f: (l: [number, number]) => T) =>
    Object.fromEntries(lines.map((l, i) => [i, f(l)]));
  return {
    statementMap: byId(([line]) => loc(line)),
    s: byId(([, hits]) => hits),
    fnMap: byId(([line]) => ({ decl: loc(line), loc: loc(line) })),
    f: byId(([, hits]) => hits),
    branchMap: {},
    b: {},
  };
}

describe("mergeCoverage", () => {
  it("counts the in-process lines, covered when either side ran them", () => {
    const inProcess = {
      "/a.ts": fileWith([
        [1, 1],
        [2, 0],
        [3, 0],
      ]),
    };
    // Line 9 is one only the children's converter sees (a closing brace, say): not counted.
    const children = {
      "/a.ts": fileWith([
        [2, 4],
        [9, 0],
      ]),
    };
    const [a] = mergeCoverage(inProcess, children);
    expect(a?.lines).toEqual({ covered: 2, total: 3 });
    expect(a?.functions).toEqual({ covered: 2, total: 3 });
    expect(percent(total(mergeCoverage(inProcess, {}), "lines"))).toBe(33.33);
  });

  it("counts a file only the children report with their lines", () => {
    const [b] = mergeCoverage(
      {},
      {
        "/b.ts": fileWith([
          [1, 1],
          [2, 0],
        ]),
      },
    );
    expect(b?.lines).toEqual({ covered: 1, total: 2 });
  });
});

describe("child processes' V8 coverage", () => {
  const raw = join(dir, "raw");
  mkdirSync(raw);
  const node = (args: string[]) =>
    execFileSync(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", NODE_V8_COVERAGE: raw },
    }).toString();

  it("maps a tsx child and a built child back to src/, and keeps nothing else", async () => {
    const fromSources = `import("./src/cli/keys.ts").then((m) => console.log(m.parseDuration("2h")))`;
    expect(node(["--import", "tsx", "-e", fromSources]).trim()).toBe("7200000");
    const out = join(dir, "built");
    await build({
      entryPoints: [join(ROOT, "src/launcher/timing.ts")],
      outdir: out,
      outbase: join(ROOT, "src"),
      platform: "node",
      format: "esm",
      sourcemap: true,
      logLevel: "warning",
    });
    const built = `import(${JSON.stringify(join(out, "launcher/timing.js"))}).then((m) => m.phaseTimer({ debug() {} }).time("x", Promise.resolve()))`;
    node(["-e", built]);

    const kept = join(dir, "kept");
    expect(keepSourceDumps(raw, kept, join(ROOT, "src"))).toBe(2);
    for (const name of readdirSync(kept)) {
      const dump = JSON.parse(readFileSync(join(kept, name), "utf8")) as {
        result: { url: string }[];
      };
      for (const { url } of dump.result) expect(url).toMatch(/\/src\/|\/built\/launcher\//);
    }
    execFileSync("npx", ["c8", ...c8ReportArgs(kept, join(dir, "report"))], { cwd: ROOT });
    const report = JSON.parse(
      readFileSync(join(dir, "report", "coverage-final.json"), "utf8"),
    ) as CoverageJson;
    const keys = mergeCoverage({}, report).find((f) => f.file === join(ROOT, "src/cli/keys.ts"));
    expect(keys?.lines.covered).toBeGreaterThan(0);
    expect(keys?.lines.covered).toBeLessThan(keys?.lines.total ?? 0);

    const lines = (file: string) => {
      const cov = report[join(ROOT, "src", file)];
      if (!cov) throw new Error(`${file} not in the report`);
      return new Map(Object.entries(cov.statementMap).map(([id, l]) => [l.start.line, cov.s[id]]));
    };
    const keyLines = lines("cli/keys.ts");
    expect(keyLines.get(lineOf("cli/keys.ts", "const m = /^([1-9]"))).toBeGreaterThan(0);
    expect(keyLines.get(lineOf("cli/keys.ts", "const state = k.revokedAt"))).toBe(0);
    const timing = lines("launcher/timing.ts");
    expect(timing.get(lineOf("launcher/timing.ts", "phases[name] = {"))).toBeGreaterThan(0);
    expect(Object.keys(report).every((f) => f.startsWith(join(ROOT, "src")))).toBe(true);
  }, 60_000);
});
