import { API_HEADERS, type EdgeRequest, type EdgeResponse, sendJson } from "./http.js";

/** The edge's own pages: probes and the API reference. */
export interface StaticPages {
  /** The OpenAPI document, serialized once at start. */
  openapiJson: string;
  /** The reference page, rendered once at start. */
  docsHtml: string;
  /** Whether core answers. */
  ready(): Promise<boolean>;
}

/** No scripts, no frames, nothing from elsewhere: the page is self-contained. */
const DOCS_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Serves /healthz, /readyz, /openapi.json and /docs; false when the path is none of them. */
export async function serveStatic(
  pages: StaticPages,
  req: EdgeRequest,
  res: EdgeResponse,
  path: string,
): Promise<boolean> {
  const get = req.method === "GET" || req.method === "HEAD";
  switch (path) {
    case "/healthz":
      if (!get) return false;
      sendJson(res, 200, { status: "ok" });
      return true;
    case "/readyz": {
      if (!get) return false;
      const ready = await pages.ready();
      sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "core unavailable" });
      return true;
    }
    case "/openapi.json":
      if (!get) return false;
      res.writeHead(200, {
        ...API_HEADERS,
        "cache-control": "no-cache",
        "content-type": "application/json; charset=utf-8",
      });
      res.end(pages.openapiJson);
      return true;
    case "/docs":
      if (!get) return false;
      res.writeHead(200, {
        ...API_HEADERS,
        "cache-control": "no-cache",
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": DOCS_CSP,
        "x-frame-options": "DENY",
      });
      res.end(pages.docsHtml);
      return true;
    default:
      return false;
  }
}
