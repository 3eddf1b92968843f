import { chmodSync, existsSync, lstatSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import http2 from "node:http2";
import { dirname } from "node:path";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { SignerService } from "../gen/tronpay/signer/v1/signer_pb.js";
import { errorInterceptor } from "../shared/connect.js";
import { createSignerHandlers, type SignerHandlerDeps } from "./handlers.js";

/** A running signer server. */
export interface SignerServer {
  socketPath: string;
  close(): Promise<void>;
}

/**
 * Serves SignerService (Connect over HTTP/2) on a Unix socket only: the socket is 0600 in a
 * 0700 directory, created under a tight umask so it is never briefly open to others.
 */
export async function serveSigner(
  deps: SignerHandlerDeps,
  socketPath: string,
): Promise<SignerServer> {
  const dir = dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (statSync(dir).uid !== process.getuid?.())
    throw new Error("the socket directory belongs to another user");
  if (existsSync(socketPath)) {
    if (!lstatSync(socketPath).isSocket())
      throw new Error("the socket path exists and is not a socket");
    unlinkSync(socketPath);
  }
  const handler = connectNodeAdapter({
    routes: (router) => router.service(SignerService, createSignerHandlers(deps)),
    interceptors: [errorInterceptor],
    // Room for a 16 MiB backup (RestoreBackup); signing requests are capped by maxRawBytes.
    readMaxBytes: 17 * 1024 * 1024,
    // Never compressed: on a local socket gzip only costs CPU (a SignTransactions answer of
    // 64 items would otherwise be gzipped for any client that offers it).
    acceptCompression: [],
  });
  const server = http2.createServer(handler);
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(previous);
  }
  chmodSync(socketPath, 0o600);
  return {
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle HTTP/2 sessions would keep close() waiting; the process is stopping anyway.
        setTimeout(resolve, 2000).unref();
      }),
  };
}
