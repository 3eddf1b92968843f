import { connect } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { toConnectError } from "./errors.js";

/**
 * Turns whatever a handler throws into a ConnectError a client may see: AppErrors keep their
 * stable reason, anything else becomes `internal` (see toConnectError). Every server uses it.
 * A server stream's errors surface while its messages are read, after `next` has returned, so
 * they are converted there too.
 */
export const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    if (!res.stream) return res;
    return { ...res, message: convertErrors(res.message) };
  } catch (err) {
    throw toConnectError(err);
  }
};

async function* convertErrors<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw toConnectError(err);
  }
}

/**
 * A Connect transport over HTTP/2 on a Unix socket (how core reaches the signer): binary
 * protobuf (connect-node's default, stated so it stays so) and no compression: gzip on a local
 * socket only spends CPU, and a SignTransactions answer is large enough to be compressed.
 */
export function unixSocketTransport(
  socketPath: string,
  interceptors: Interceptor[] = [],
): Transport {
  return createConnectTransport({
    interceptors,
    httpVersion: "2",
    useBinaryFormat: true,
    acceptCompression: [],
    baseUrl: "http://localhost",
    nodeOptions: { createConnection: () => connect(socketPath) },
  });
}

/** A typed client for a service on a Unix socket. */
export function unixSocketClient<S extends DescService>(service: S, socketPath: string): Client<S> {
  return createClient(service, unixSocketTransport(socketPath));
}
