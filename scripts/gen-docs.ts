// Writes the generated documentation that is committed (docs/errors.md); with --check, only
// fails when the committed copy is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { renderErrorDocs } from "../src/shared/error-docs.js";

const target = new URL("../docs/errors.md", import.meta.url);
const fresh = renderErrorDocs();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {}
  if (current !== fresh) {
    console.error("docs/errors.md is stale: run npm run gen:docs");
    process.exit(1);
  }
} else {
  writeFileSync(target, fresh);
}
