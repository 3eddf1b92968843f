import type { Panel } from "./chart.js";
import type { Plan } from "./explain.js";
import type { LoopRun } from "./loop.js";
import { showSizes, type TableSize } from "./report.js";
import { type Figure, figure, show } from "./stats.js";

/** The runs at one amount of stored payouts. */
export interface VolumeLevel {
  seeded: { stored: number; today: number };
  seedSeconds: number;
  tables: { before: TableSize[]; after: TableSize[] };
  api: Record<string, Record<number, LoopRun[]>>;
}

/** What bench/volume.ts measured, as written to the JSON file. */
export interface VolumeResult {
  date: string;
  /** Which code core ran (bench/code.ts). */
  code?: string;
  machine: { cpus: number; load: number[] };
  runs: number;
  secondsPerRun: number;
  inFlight: number[];
  levels: VolumeLevel[];
  plans: Plan[];
  skipped: string[];
}

const of = (runs: LoopRun[] | undefined, k: keyof LoopRun): Figure =>
  figure((runs ?? []).map((r) => r[k]));

/** Per run i: a_i.rps / b_i.rps, then median and spread. */
function ratio(a: LoopRun[] | undefined, b: LoopRun[] | undefined): string {
  if (!a || !b) return "–";
  const xs = a.flatMap((x, i) => (b[i] ? [x.rps / (b[i] as LoopRun).rps] : []));
  return show(figure(xs), 2);
}

const label = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

/** The markdown report, and the chart's panels (req/s medians per in-flight count). */
export function renderVolume(
  r: VolumeResult,
  svgName: string,
): { markdown: string; panels: Panel[]; categories: string[] } {
  const names = [...new Set(r.levels.flatMap((l) => Object.keys(l.api)))];
  const out: string[] = [`# tronpay bench:volume ${r.date}`, ""];
  out.push(
    `${r.machine.cpus} CPUs, load average at the end ${r.machine.load.map((l) => l.toFixed(1)).join(" / ")}; ${r.runs} runs of ${r.secondsPerRun} s each per size; median (min–max). Chart: [${svgName}](${svgName}).${r.code ? ` Core ran ${r.code}.` : ""}`,
    "",
    "core: CreatePayout over Connect to core (idempotency + payout + audit + outbox in one transaction, limit check of migration 012). anchor: pgbench, minimal durable insert of operation + payout + outbox rows. bare: that insert behind a node:http handler. bare+new / bare+old: the bare insert in a transaction after the daily-limit check of migration 012 / of the code before it (copied SQL, not shared).",
    "",
  );
  for (const level of r.levels) {
    const { stored, today } = level.seeded;
    out.push(
      `## ${stored.toLocaleString("en-US")} payouts seeded (${today.toLocaleString("en-US")} today), seeding ${level.seedSeconds.toFixed(1)} s`,
      "",
      `Tables before: ${showSizes(level.tables.before)}.`,
      "",
      `Tables after: ${showSizes(level.tables.after)}.`,
      "",
      "| path | in flight | req/s | p50 ms | p95 ms | errors | × anchor req/s |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const name of names)
      for (const n of r.inFlight) {
        const runs = level.api[name]?.[n];
        out.push(
          `| ${name} | ${n} | ${show(of(runs, "rps"), 0)} | ${show(of(runs, "p50"))} | ${show(of(runs, "p95"))} | ${(runs ?? []).reduce((s, x) => s + x.errors, 0)} | ${ratio(runs, level.api.anchor?.[n])} |`,
        );
      }
    out.push("");
  }
  out.push("## core req/s and p95 by payouts stored (medians)", "");
  out.push(
    `| in flight | ${r.levels.map((l) => `${label(l.seeded.stored)} req/s | p95 ms`).join(" | ")} |`,
    `| ---: |${r.levels.map(() => " ---: | ---: |").join("")}`,
  );
  for (const n of r.inFlight)
    out.push(
      `| ${n} | ${r.levels
        .map((l) => {
          const runs = l.api.core?.[n];
          return `${of(runs, "rps").median.toFixed(0)} | ${of(runs, "p95").median.toFixed(1)}`;
        })
        .join(" | ")} |`,
    );
  out.push("", "## EXPLAIN of one CreatePayout's statements (largest size)", "");
  for (const p of r.plans)
    out.push("```sql", p.sql.trim().replace(/\s+/g, " "), "```", "```", p.plan, "```", "");
  for (const s of r.skipped) out.push(`Skipped: ${s}`, "");
  const categories = r.levels.map((l) => label(l.seeded.stored));
  const panels: Panel[] = r.inFlight.map((n) => ({
    title: `${n} in flight`,
    series: names.map((name) => ({
      name,
      values: r.levels.map((l) => of(l.api[name]?.[n], "rps").median),
    })),
  }));
  return { markdown: `${out.join("\n")}\n`, panels, categories };
}
