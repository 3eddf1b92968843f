// What the coverage figure is measured over, shared by vitest.config.ts (the test workers'
// in-process coverage) and scripts/coverage.ts (the child processes' coverage, through c8): the
// sources under src/, without generated code and without what only tests use (the same files
// scripts/build.mjs leaves out of dist/).
export const COVERAGE_INCLUDE = ["src/**/*.ts"];
export const COVERAGE_EXCLUDE = [
  "src/gen/**",
  "src/**/*.d.ts",
  "src/**/*.test.ts",
  "src/**/*.fixture.ts",
  "src/signer/testing.ts",
  "src/tron/testing.ts",
];
