import type { LoopRun } from "./loop.js";
import type { PipelineRun } from "./pipeline.js";
import { type Figure, figure, show } from "./stats.js";

/** What bench/main.ts measured, as written to the JSON file. */
export interface BenchResult {
  date: string;
  machine: { cpus: number; load: number[] };
  runs: number;
  secondsPerRun: number;
  api: Record<string, Record<number, LoopRun[]>>;
  pipeline: PipelineRun;
  rss: Record<string, Record<string, number>>;
  signer: string[];
  skipped: string[];
}

const of = (runs: LoopRun[] | undefined, k: keyof LoopRun): Figure =>
  figure((runs ?? []).map((r) => r[k]));

/** Per run i: f(a_i, b_i), then median and spread over runs (ratios inside one run). */
function paired(
  a: LoopRun[] | undefined,
  b: LoopRun[] | undefined,
  f: (x: LoopRun, y: LoopRun) => number,
): Figure {
  const xs = a ?? [];
  return figure(xs.flatMap((x, i) => (b?.[i] ? [f(x, b[i] as LoopRun)] : [])));
}

/** The markdown tables of one benchmark result. */
export function renderMarkdown(r: BenchResult, inFlight: number[]): string {
  const out: string[] = [];
  out.push(`# tronpay bench ${r.date}`, "");
  out.push(
    `${r.machine.cpus} CPUs, load average at the end ${r.machine.load.map((l) => l.toFixed(1)).join(" / ")}; ${r.runs} runs of ${r.secondsPerRun} s each; median (min–max).`,
    "",
  );
  out.push("## CreatePayout (durable: idempotency + payout + audit + outbox, one transaction)", "");
  out.push(
    "| transport | in flight | req/s | p50 ms | p95 ms | p99 ms | errors | × baseline req/s |",
  );
  out.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const name of Object.keys(r.api)) {
    for (const n of inFlight) {
      const runs = r.api[name]?.[n];
      const base = r.api.baseline?.[n];
      const ratio =
        name === "baseline"
          ? "1"
          : show(
              paired(runs, base, (x, y) => x.rps / y.rps),
              2,
            );
      out.push(
        `| ${name} | ${n} | ${show(of(runs, "rps"), 0)} | ${show(of(runs, "p50"))} | ${show(of(runs, "p95"))} | ${show(of(runs, "p99"))} | ${(runs ?? []).reduce((s, x) => s + x.errors, 0)} | ${ratio} |`,
      );
    }
  }
  if (r.api.rest) {
    out.push("", "## Edge overhead (REST via edge − Connect direct, same run)", "");
    out.push("| in flight | added p50 ms | added p99 ms |", "| ---: | ---: | ---: |");
    for (const n of inFlight) {
      const rest = r.api.rest[n];
      const conn = r.api.connect?.[n];
      out.push(
        `| ${n} | ${show(paired(rest, conn, (x, y) => x.p50 - y.p50))} | ${show(paired(rest, conn, (x, y) => x.p99 - y.p99))} |`,
      );
    }
  }
  out.push("", "## Pipeline (engine running, devnet 100 ms blocks, solid lag 2)", "");
  out.push(
    `CreatePayoutBatch of ${r.pipeline.items} → all CONFIRMED: ${r.pipeline.seconds.toFixed(1)} s, ${r.pipeline.payoutsPerSecond.toFixed(1)} payouts/s (one run).`,
  );
  out.push("", "## Signer (bench/signer.ts)", "", ...r.signer);
  out.push("", "## RSS (MiB, from /proc; peak during the phase)", "");
  const names = [...new Set(Object.values(r.rss).flatMap((m) => Object.keys(m)))];
  out.push(
    `| process | ${Object.keys(r.rss).join(" | ")} |`,
    `| --- |${Object.keys(r.rss)
      .map(() => " ---: |")
      .join("")}`,
  );
  for (const p of names)
    out.push(
      `| ${p} | ${Object.values(r.rss)
        .map((m) => (m[p] ?? 0).toFixed(0))
        .join(" | ")} |`,
    );
  for (const s of r.skipped) out.push("", `Skipped: ${s}`);
  return `${out.join("\n")}\n`;
}
