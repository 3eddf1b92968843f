/**
 * The environment that makes a process a test starts write its V8 coverage, when
 * scripts/coverage.ts measures the suite: it sets TRONPAY_TEST_V8_COVERAGE to a directory, and a
 * child given NODE_V8_COVERAGE there leaves its raw coverage in it on exit, merged afterwards with
 * the test workers' own. The workers themselves are not given NODE_V8_COVERAGE: they run code
 * vitest has transformed, which @vitest/coverage-v8 maps; raw dumps of it would not map back.
 * Empty when coverage is off, so a plain run starts its children exactly as before.
 */
export function childCoverageEnv(): Record<string, string> {
  const dir = process.env.TRONPAY_TEST_V8_COVERAGE;
  return dir ? { NODE_V8_COVERAGE: dir } : {};
}
