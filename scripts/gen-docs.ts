// Writes the generated documentation that is committed (docs/errors.md, docs/events.md); with
// --check, only fails when a committed copy is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { renderEventDocs } from "../src/core/events/docs.js";
import { renderErrorDocs } from "../src/shared/error-docs.js";

const docs: [string, () => string][] = [
  ["errors.md", renderErrorDocs],
  ["events.md", renderEventDocs],
];
let stale = false;
for (const [name, render] of docs) {
  const target = new URL(`../docs/${name}`, import.meta.url);
  const fresh = render();
  if (!process.argv.includes("--check")) {
    writeFileSync(target, fresh);
    continue;
  }
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {}
  if (current !== fresh) {
    console.error(`docs/${name} is stale: run npm run gen:docs`);
    stale = true;
  }
}
if (stale) process.exit(1);
