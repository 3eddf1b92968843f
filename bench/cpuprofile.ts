/**
 * Summarises a V8 .cpuprofile: self time by package / source file and by function, in ms per
 * request when the number of requests is given.
 *
 * `skipMs` leaves out the first milliseconds (start-up: module loading and compiling).
 *
 *   npx tsx bench/cpuprofile.ts FILE [REQUESTS] [SKIP_MS]
 */
import { readFileSync } from "node:fs";

export function summarizeProfile(path: string, n: number, skipMs = 0): void {
  const file = path;
  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }
  const prof = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: Node[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  let elapsed = 0;
  for (const [i, id] of prof.samples.entries()) {
    const dt = prof.timeDeltas[i] ?? 0;
    elapsed += dt;
    if (elapsed / 1000 >= skipMs) self.set(id, (self.get(id) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const where = (url: string) => {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) return m[1] as string;
    if (url.includes("/src/")) return `src/${url.split("/src/")[1]}`;
    return url === "" ? "(native/gc/idle)" : url.startsWith("node:") ? "node internals" : url;
  };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const byPkg = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    add(byPkg, where(url), us);
    add(byFn, `${functionName || "(anonymous)"} ${where(url)}:${lineNumber + 1}`, us);
  }
  const show = (title: string, m: Map<string, number>, top: number) => {
    console.log(`\n${title} (ms of CPU per request, % of samples)`);
    for (const [k, us] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(
        `  ${(us / 1000 / n).toFixed(3).padStart(7)}  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`,
      );
  };
  console.log(`\nprofile ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${n} requests`);
  show("self time by package / file", byPkg, 25);
  show("self time by function", byFn, 30);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, requests, skip] = process.argv.slice(2);
  if (!file) throw new Error("usage: cpuprofile.ts FILE [REQUESTS] [SKIP_MS]");
  summarizeProfile(file, Number(requests ?? 1), Number(skip ?? 0));
}
