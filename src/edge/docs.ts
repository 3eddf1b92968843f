import type { OpenApiDocument } from "./openapi.js";

/**
 * The API reference as one self-contained HTML page rendered from the OpenAPI document: no
 * scripts, no fonts, no CDN, so it works offline and under a CSP of default-src 'none'.
 */

type Json = Record<string, unknown>;

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px ui-monospace,monospace;background:#f4f4f4;padding:.1rem .3rem}
pre{padding:.6rem;overflow:auto}h2{border-bottom:1px solid #ddd;margin-top:2.5rem}
.op{border:1px solid #ddd;border-radius:4px;padding:.5rem 1rem;margin:1rem 0}
.m{font-weight:bold;text-transform:uppercase;display:inline-block;min-width:4rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
nav a{margin-right:.8rem}`;

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page for a document. */
export function renderDocs(doc: OpenApiDocument): string {
  const info = doc.info as Json;
  const tags = (doc.tags as { name: string }[]).map((t) => t.name);
  const sections = tags.map((tag) => section(doc, tag)).join("\n");
  const schemas = ((doc.components as Json).schemas ?? {}) as Record<string, Json>;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(String(info.title))} reference</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(String(info.title))} <small>${escapeHtml(String(info.version))}</small></h1>
<p>${escapeHtml(String(info.description ?? ""))}</p>
<p>Authenticate with <code>Authorization: Bearer &lt;API key&gt;</code> or <code>x-api-key</code>.
Errors are <code>google.rpc.Status</code> JSON whose details carry a <code>google.rpc.ErrorInfo</code>
with a stable <code>reason</code>. The machine-readable document is <a href="openapi.json">openapi.json</a>.</p>
<nav>${tags.map((t) => `<a href="#${escapeHtml(t)}">${escapeHtml(t)}</a>`).join("")}<a href="#schemas">Schemas</a></nav>
${sections}
<h2 id="schemas">Schemas</h2>
${Object.entries(schemas)
  .map(
    ([name, schema]) => `<h3 id="${anchor(name)}">${escapeHtml(name)}</h3>${schemaTable(schema)}`,
  )
  .join("\n")}
</body></html>
`;
}

function section(doc: OpenApiDocument, tag: string): string {
  const ops: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if ((op.tags as string[])[0] === tag) ops.push(operationHtml(path, method, op));
    }
  }
  return `<h2 id="${escapeHtml(tag)}">${escapeHtml(tag)}</h2>\n${ops.join("\n")}`;
}

function operationHtml(path: string, method: string, op: Json): string {
  const params = (op.parameters as Json[]) ?? [];
  const rows = params
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(String(p.name))}</code></td><td>${escapeHtml(String(p.in))}</td><td>${typeOf(p.schema as Json)}</td></tr>`,
    )
    .join("");
  const body = op.requestBody as Json | undefined;
  const bodySchema = body ? ((body.content as Json)["application/json"] as Json).schema : undefined;
  const ok = ((op.responses as Json)["200"] as Json).content as Record<string, Json>;
  const out = Object.entries(ok)
    .map(([type, c]) => `<code>${escapeHtml(type)}</code> ${typeOf(c.schema as Json)}`)
    .join(", ");
  return `<div class="op" id="${escapeHtml(String(op.operationId))}">
<p><span class="m">${escapeHtml(method)}</span> <code>${escapeHtml(path)}</code></p>
<p>${escapeHtml(String(op.description))}</p>
${rows ? `<table><tr><th>Parameter</th><th>In</th><th>Type</th></tr>${rows}</table>` : ""}
${bodySchema ? `<p>Body: ${typeOf(bodySchema as Json)}</p>${schemaTable(bodySchema as Json)}` : ""}
<p>Returns: ${out}</p></div>`;
}

function schemaTable(schema: Json): string {
  if (Array.isArray(schema.enum))
    return `<p>One of: ${schema.enum.map((v) => `<code>${escapeHtml(String(v))}</code>`).join(" ")}</p>`;
  const props = schema.properties as Record<string, Json> | undefined;
  if (!props || Object.keys(props).length === 0) return "";
  const rows = Object.entries(props)
    .map(([name, s]) => `<tr><td><code>${escapeHtml(name)}</code></td><td>${typeOf(s)}</td></tr>`)
    .join("");
  const notes = ((schema.allOf as Json[]) ?? [])
    .map((r) => `<p>${escapeHtml(String(r.description ?? ""))}</p>`)
    .join("");
  return `<table><tr><th>Field</th><th>Type</th></tr>${rows}</table>${notes}`;
}

/** A short type label; references link to their schema section. */
function typeOf(schema: Json | undefined): string {
  if (!schema) return "";
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.split("/").pop() ?? "";
    return `<a href="#${anchor(name)}">${escapeHtml(name)}</a>`;
  }
  if (schema.type === "array") return `array of ${typeOf(schema.items as Json)}`;
  if (
    schema.type === "object" &&
    schema.additionalProperties &&
    typeof schema.additionalProperties === "object"
  ) {
    return `map of ${typeOf(schema.additionalProperties as Json)}`;
  }
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : String(schema.type ?? "any");
  return escapeHtml(schema.format ? `${type} (${String(schema.format)})` : type);
}

function anchor(name: string): string {
  return `schema-${escapeHtml(name.replace(/[^A-Za-z0-9_.-]/g, "_"))}`;
}
