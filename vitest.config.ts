import { defineConfig } from "vitest/config";
import { COVERAGE_EXCLUDE, COVERAGE_INCLUDE } from "./scripts/coverage-scope.js";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites share one PostgreSQL and Redis; files run in parallel workers,
    // each test file uses its own schema/prefix.
    pool: "forks",
    // Off unless asked for (`--coverage.enabled`, which scripts/coverage.ts passes): the test
    // workers' part of the figure; the processes tests start are measured by the script.
    coverage: {
      provider: "v8",
      include: COVERAGE_INCLUDE,
      exclude: COVERAGE_EXCLUDE,
      reporter: ["json"],
      reportsDirectory: "coverage/in-process",
    },
  },
});
