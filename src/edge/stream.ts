import type { Message } from "@bufbuild/protobuf";
import { API_HEADERS, type EdgeResponse, writeText } from "./http.js";
import { toHttpError } from "./transcode/errors.js";

/** How to frame a server stream for an HTTP client. */
export interface StreamOptions {
  /** Server-Sent Events instead of newline-delimited JSON. */
  sse: boolean;
  requestId: string;
  toJson(message: Message): unknown;
}

/**
 * Writes a server stream: NDJSON (one `{"result": …}` per line) or SSE (`data:` events). An
 * error before the first message is thrown, so the caller answers it with a normal status;
 * after that the status is already sent, so it goes in-band (`{"error": Status}` or an
 * `event: error`), as grpc-gateway does.
 */
export async function writeStream(
  res: EdgeResponse,
  messages: AsyncIterable<Message>,
  options: StreamOptions,
): Promise<void> {
  const iterator = messages[Symbol.asyncIterator]();
  const first = await iterator.next();
  res.writeHead(200, {
    ...API_HEADERS,
    "content-type": options.sse ? "text/event-stream; charset=utf-8" : "application/x-ndjson",
    "x-request-id": options.requestId,
    // Tell buffering proxies to pass each event on at once.
    "x-accel-buffering": "no",
  });
  try {
    let next = first;
    while (!next.done) {
      write(res, options.sse, "message", { result: options.toJson(next.value) });
      next = await iterator.next();
    }
  } catch (err) {
    write(res, options.sse, "error", { error: toHttpError(err).body });
  }
  res.end();
}

function write(res: EdgeResponse, sse: boolean, event: string, value: unknown): void {
  const json = JSON.stringify(value);
  if (sse) {
    writeText(
      res,
      event === "message" ? `data: ${json}\n\n` : `event: ${event}\ndata: ${json}\n\n`,
    );
  } else {
    writeText(res, `${json}\n`);
  }
}
