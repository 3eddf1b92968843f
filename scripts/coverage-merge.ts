// The pieces of scripts/coverage.ts that work on coverage data: keeping the child processes' raw
// V8 dumps of our sources only, and one line-coverage figure from the test workers' coverage
// (@vitest/coverage-v8) and the children's (c8). Both arrive as istanbul JSON
// (coverage-final.json), made by two different converters, so their statements do not line up
// one to one; lines do. The figure counts the lines the in-process report knows (every source
// file is in it, loaded or not), a line being covered when either side ran it.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COVERAGE_EXCLUDE, COVERAGE_INCLUDE } from "./coverage-scope.js";

interface Loc {
  start: { line: number; column: number };
}
/** One file of an istanbul coverage-final.json (the parts used here). */
export interface FileCoverage {
  statementMap: Record<string, Loc>;
  s: Record<string, number>;
  fnMap: Record<string, { decl: Loc; loc: Loc }>;
  f: Record<string, number>;
  branchMap: Record<string, unknown>;
  b: Record<string, number[]>;
}
export type CoverageJson = Record<string, FileCoverage>;

/** Covered and total of one measure. */
export interface Tally {
  covered: number;
  total: number;
}
export interface FileFigure {
  file: string;
  lines: Tally;
  functions: Tally;
  branches: Tally;
}

interface RawDump {
  result: { url: string }[];
  "source-map-cache"?: Record<string, { data?: { sources?: string[] } | null }>;
}

/**
 * Copies each raw dump in `rawDir` to `outDir` with only the scripts of `srcDir`'s files: run
 * from the sources (tsx), or built (dist/) with a source map back into them. Everything else a
 * process loaded (node_modules, node's own modules) is dropped here, before c8 converts, as
 * converting it is most of the work and none of it is counted. Returns the number of dumps kept.
 */
export function keepSourceDumps(rawDir: string, outDir: string, srcDir: string): number {
  mkdirSync(outDir, { recursive: true });
  const prefix = `file://${srcDir.endsWith("/") ? srcDir : `${srcDir}/`}`;
  let kept = 0;
  for (const name of readdirSync(rawDir).filter((n) => n.endsWith(".json"))) {
    const dump = JSON.parse(readFileSync(join(rawDir, name), "utf8")) as RawDump;
    const maps = dump["source-map-cache"] ?? {};
    const ours = (url: string) =>
      url.startsWith(prefix) ||
      (maps[url]?.data?.sources ?? []).some((s) => new URL(s, url).href.startsWith(prefix));
    const result = dump.result.filter((script) => ours(script.url));
    if (result.length === 0) continue;
    const cache = Object.fromEntries(Object.entries(maps).filter(([url]) => ours(url)));
    writeFileSync(join(outDir, name), JSON.stringify({ result, "source-map-cache": cache }));
    kept++;
  }
  return kept;
}

/**
 * `c8 report` arguments that turn the kept dumps in `tempDir` into `reportDir`/coverage-final.json,
 * over the same files as the in-process side. --exclude-after-remap: a built file (a dist/ in a
 * temporary directory) is in scope by the source it maps back to, not by where it ran.
 */
export function c8ReportArgs(tempDir: string, reportDir: string): string[] {
  return [
    ...["report", "--temp-directory", tempDir, "--report-dir", reportDir],
    ...["--reporter", "json", "--exclude-after-remap"],
    ...COVERAGE_INCLUDE.flatMap((g) => ["--include", g]),
    ...COVERAGE_EXCLUDE.flatMap((g) => ["--exclude", g]),
  ];
}

/** Hits per line: a line's count is its most-run statement's, as istanbul counts lines. */
export function lineHits(file: FileCoverage): Map<number, number> {
  const hits = new Map<number, number>();
  for (const [id, loc] of Object.entries(file.statementMap)) {
    const line = loc.start.line;
    hits.set(line, Math.max(hits.get(line) ?? 0, file.s[id] ?? 0));
  }
  return hits;
}

/** The start lines of the functions that ran at least once. */
function ranFunctionLines(file: FileCoverage | undefined): Set<number> {
  const lines = new Set<number>();
  for (const [id, fn] of Object.entries(file?.fnMap ?? {})) {
    if ((file?.f[id] ?? 0) > 0) lines.add(fn.decl.start.line).add(fn.loc.start.line);
  }
  return lines;
}

/**
 * Per file, lines and functions covered by either side; branches as the test workers measured
 * them (V8 reports a child's branches as uncovered blocks only, which do not match istanbul's
 * branch locations). A file only the children report (none while the in-process side lists
 * every source) counts with the children's lines.
 */
export function mergeCoverage(inProcess: CoverageJson, children: CoverageJson): FileFigure[] {
  const files = new Set([...Object.keys(inProcess), ...Object.keys(children)]);
  return [...files].sort().map((file) => {
    const own = inProcess[file];
    const child = children[file];
    const childLines = child ? lineHits(child) : new Map<number, number>();
    const lines = own ? lineHits(own) : childLines;
    let linesCovered = 0;
    for (const [line, hits] of lines)
      if (hits > 0 || (childLines.get(line) ?? 0) > 0) linesCovered++;
    const childFns = ranFunctionLines(child);
    const fns = Object.entries((own ?? child)?.fnMap ?? {});
    const fnsCovered = fns.filter(
      ([id, fn]) => ((own ?? child)?.f[id] ?? 0) > 0 || childFns.has(fn.decl.start.line),
    ).length;
    const branches = Object.values(own?.b ?? {}).flat();
    return {
      file,
      lines: { covered: linesCovered, total: lines.size },
      functions: { covered: fnsCovered, total: fns.length },
      branches: { covered: branches.filter((h) => h > 0).length, total: branches.length },
    };
  });
}

/** The sum over files of one measure. */
export function total(files: FileFigure[], measure: "lines" | "functions" | "branches"): Tally {
  return files.reduce(
    (sum, f) => ({
      covered: sum.covered + f[measure].covered,
      total: sum.total + f[measure].total,
    }),
    { covered: 0, total: 0 },
  );
}

/** A percentage with two decimals, 100 for nothing to cover. */
export function percent(t: Tally): number {
  return t.total === 0 ? 100 : Math.floor((t.covered / t.total) * 10_000) / 100;
}
