import { Code } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { catalogEntries } from "./error-catalog.js";

/** Renders docs/errors.md from the catalog; a test keeps the committed file current. */
export function renderErrorDocs(): string {
  const lines = [
    "# Error reasons",
    "",
    "Generated from `src/shared/error-catalog.ts` by `npm run gen:docs`; do not edit by hand.",
    "",
    'Every error a client sees carries a `google.rpc.ErrorInfo` detail with `domain: "tronpay"`',
    "and one of these stable reasons. The HTTP status follows from the gRPC code.",
    "",
    "| reason | gRPC code | HTTP | meaning |",
    "| --- | --- | --- | --- |",
  ];
  for (const [reason, code, doc] of catalogEntries) {
    lines.push(`| \`${reason}\` | ${Code[code]} | ${codeToHttpStatus(code)} | ${doc} |`);
  }
  return `${lines.join("\n")}\n`;
}
