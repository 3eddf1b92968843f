import { randomUUID } from "node:crypto";
import {
  type DescMessage,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  fromJson,
  type Message,
  toJson,
} from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { AppError } from "../shared/errors.js";
import { type EdgeRequest, type EdgeResponse, header, readBody, sendJson } from "./http.js";
import { writeStream } from "./stream.js";
import { bodyToJson, isJsonContentType } from "./transcode/body.js";
import { bindVariables } from "./transcode/path-template.js";
import { applyQuery, findField, type JsonObject, setFieldPath } from "./transcode/query.js";
import type { RestRoute } from "./transcode/rules.js";
import { checkRequestText } from "./transcode/text-check.js";

/** What a REST call needs besides the request. */
export interface RestDeps {
  transport: Transport;
  maxBodyBytes: number;
  defaultDeadlineMs: number;
  streamDeadlineMs: number;
}

/** Headers passed on to core: credentials and the correlation id (plus the client's origin). */
const FORWARDED = ["authorization", "x-api-key"];

/**
 * Serves one matched REST route: builds the request message from path, query and body,
 * calls core over Connect with the client's credentials and the `extra` headers (the edge's
 * statement of the client's origin), and answers JSON (or a stream).
 * Throws AppError / ConnectError; the caller turns them into the Status JSON.
 */
export async function serveRest(
  deps: RestDeps,
  req: EdgeRequest,
  res: EdgeResponse,
  route: RestRoute,
  segments: string[],
  query: URLSearchParams,
  requestId: string,
  extra: [string, string][],
): Promise<void> {
  const input = await buildRequest(deps, req, route, segments, query);
  const headers = forwardHeaders(req, requestId);
  for (const [name, value] of extra) headers.set(name, value);
  // A client that goes away cancels the call to core; once answered, nothing is left to cancel
  // (aborting then would only build an AbortError and run the transport's listeners for
  // nothing, on every request).
  const abort = new AbortController();
  const cancel = () => abort.abort();
  res.once("close", cancel);
  const method = route.method;
  if (method.methodKind === "unary") {
    const answer = await deps.transport
      .unary(method as DescMethodUnary, abort.signal, deps.defaultDeadlineMs, headers, input)
      .finally(() => res.off("close", cancel));
    const json = responseJson(method.output, answer.message, route.responseBody);
    sendJson(res, 200, json, { "x-request-id": requestId });
    return;
  }
  if (method.methodKind === "server_streaming") {
    const answer = await deps.transport.stream(
      method as DescMethodServerStreaming,
      abort.signal,
      deps.streamDeadlineMs,
      headers,
      once(input),
    );
    const sse = (header(req, "accept") ?? "").includes("text/event-stream");
    await writeStream(res, answer.message, {
      sse,
      requestId,
      toJson: (m) => responseJson(method.output, m, route.responseBody),
    });
    return;
  }
  throw new AppError(
    "request.unsupported",
    "this RPC streams from the client; use gRPC or Connect",
    {
      metadata: { field: method.name },
    },
  );
}

/** The request message from the body (per the rule), path variables and query parameters. */
async function buildRequest(
  deps: RestDeps,
  req: EdgeRequest,
  route: RestRoute,
  segments: string[],
  query: URLSearchParams,
): Promise<Message> {
  const schema = route.method.input;
  const bytes = await readBody(req, deps.maxBodyBytes);
  if (bytes.length > 0 && !isJsonContentType(header(req, "content-type"))) {
    throw new AppError(
      "request.unsupported_media_type",
      "the request body must be application/json",
      {
        metadata: { field: "content-type" },
      },
    );
  }
  const json = bodyToJson(schema, route.body, bytes.toString("utf8"));
  if (route.body === "*" && [...query.keys()].length > 0) {
    // With body "*" every field comes from the body; a query parameter would be ignored.
    throw new AppError(
      "request.invalid",
      "this route takes its fields in the body, not the query",
      {
        metadata: { field: [...query.keys()][0] ?? "" },
      },
    );
  }
  if (route.body !== "*") applyQuery(json, schema, query);
  for (const [path, value] of bindVariables(route.template, segments)) {
    setFieldPath(json, schema, path.split("."), value, "override");
  }
  fillIdempotencyKey(json, schema, header(req, "idempotency-key"));
  const message = decode(schema, json);
  checkRequestText(schema, message);
  return message;
}

/**
 * The Idempotency-Key header fills `idempotency_key` when the body left it empty; both set and
 * different is refused, since either choice would silently drop the key the client meant.
 */
function fillIdempotencyKey(json: JsonObject, schema: DescMessage, key: string | undefined) {
  const field = findField(schema, "idempotency_key");
  if (!field || key === undefined) return;
  const current = json[field.jsonName] ?? json[field.name];
  if (current === undefined || current === "") {
    json[field.jsonName] = key;
    return;
  }
  if (current !== key) {
    throw new AppError(
      "request.idempotency_key_mismatch",
      "the Idempotency-Key header and the body's idempotency_key differ; send one, or the same in both",
      { metadata: { field: "idempotency_key" } },
    );
  }
}

function decode(schema: DescMessage, json: JsonObject): Message {
  try {
    return fromJson(schema, json as never, { ignoreUnknownFields: false });
  } catch (cause) {
    // protobuf-es names the field and the problem; it never echoes secrets beyond the input.
    const message =
      cause instanceof Error ? cause.message : "the request does not match its schema";
    throw new AppError("request.invalid", message, { cause, metadata: { field: "body" } });
  }
}

function responseJson(schema: DescMessage, message: Message, responseBody: string): unknown {
  const json = toJson(schema, message as never) as JsonObject;
  if (responseBody === "") return json;
  const field = findField(schema, responseBody);
  return field ? (json[field.jsonName] ?? null) : json;
}

/** The request's correlation id: the client's x-request-id when it is sane, else a new one. */
export function requestIdOf(req: EdgeRequest): string {
  const given = header(req, "x-request-id");
  // Only a short printable id is passed on; anything else is replaced, not trusted.
  return given && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
}

function forwardHeaders(req: EdgeRequest, requestId: string): Headers {
  const out = new Headers();
  for (const name of FORWARDED) {
    const value = header(req, name);
    if (value !== undefined) out.set(name, value);
  }
  out.set("x-request-id", requestId);
  return out;
}

async function* once<T>(value: T): AsyncIterable<T> {
  yield value;
}
