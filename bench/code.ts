import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Which code a bench runs: what the Pi runs (built JavaScript) or the sources through tsx. */
export interface BenchCode {
  built: boolean;
  /** For the result file: which code ran and, if the build failed, why not the built one. */
  note: string;
}

/**
 * Built code is the default, rebuilt first so that it is this tree's code (npm run build takes
 * well under a second); `tsx` runs src/ as development does. A failed build falls back to tsx
 * and says so rather than measuring stale files.
 */
export function prepareCode(choice: string | undefined): BenchCode {
  if (choice === "tsx") return { built: false, note: "tsx (src/…)" };
  try {
    execFileSync("npm", ["run", "build"], { stdio: ["ignore", "ignore", "inherit"] });
    if (!existsSync(new URL("../dist/core/app/main.js", import.meta.url)))
      throw new Error("no dist/");
    return { built: true, note: "built (npm run build, node dist/…)" };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { built: false, note: `tsx (src/…): npm run build failed: ${why}` };
  }
}
