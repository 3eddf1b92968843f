import { type EdgeRequest, type EdgeResponse, header } from "./http.js";

/** Request headers a browser client may send cross-origin (REST and Connect/gRPC-Web). */
const ALLOWED_HEADERS = [
  "authorization",
  "x-api-key",
  "content-type",
  "idempotency-key",
  "x-request-id",
  "connect-protocol-version",
  "connect-timeout-ms",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
].join(", ");
/** Response headers a browser client may read. */
const EXPOSED_HEADERS = [
  "x-request-id",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
].join(", ");

/**
 * CORS for the configured origins only; with none configured (the default) no CORS header is
 * ever sent and browsers keep other sites out. Returns true when it answered a preflight.
 */
export function applyCors(
  origins: readonly string[],
  req: EdgeRequest,
  res: EdgeResponse,
): boolean {
  const origin = header(req, "origin");
  const allowed = origin !== undefined && origins.includes(origin);
  const preflight = req.method === "OPTIONS" && header(req, "access-control-request-method");
  if (allowed) {
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  }
  res.setHeader("vary", "origin");
  if (!preflight) return false;
  if (allowed) {
    res.setHeader("access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE");
    res.setHeader("access-control-allow-headers", ALLOWED_HEADERS);
    res.setHeader("access-control-max-age", "600");
  }
  // Refused preflights get no allow headers; the browser then blocks the real request.
  res.writeHead(allowed ? 204 : 403, { "cache-control": "no-store" });
  res.end();
  return true;
}
