import { API_HEADERS, type EdgeRequest, type EdgeResponse, sendJson } from "./http.js";

/** The edge's own pages: probes and the API reference. */
export interface StaticPages {
  /** The OpenAPI document, serialized once at start. */
  openapiJson: string;
  /** The reference page, rendered once at start. */
  docsHtml: string;
  /** Whether core answers. */
  ready(): Promise<boolean>;
  /** In TOR_MODE=required: the onion service's state; absent when Tor is off. */
  tor?: () => TorReadiness;
}

/** What /readyz tells of Tor; never the onion address (a clearnet caller must not learn it). */
export interface TorReadiness {
  /** Published and Tor bootstrapped: clients can reach the onion. */
  ready: boolean;
  published: boolean;
  /** Tor's bootstrap progress 0–100, undefined while Tor's control port is not connected. */
  bootstrap: number | undefined;
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
      const { ready, body } = await readiness(pages);
      sendJson(res, ready ? 200 : 503, body);
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

/** Ready when core answers and, in tor mode, the onion is published on a bootstrapped Tor. */
async function readiness(pages: StaticPages): Promise<{ ready: boolean; body: object }> {
  const core = await pages.ready();
  const tor = pages.tor?.();
  const status = !core ? "core unavailable" : tor && !tor.ready ? "onion not published" : "ready";
  const body = tor
    ? { status, tor: { published: tor.published, bootstrap: tor.bootstrap ?? null } }
    : { status };
  return { ready: status === "ready", body };
}
