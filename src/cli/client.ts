import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { launcherStateFile, readLauncherState } from "../launcher/state.js";

/** Where the CLI connects and with which key. */
export interface Connection {
  url: string;
  key: string;
}

/** Options every API command accepts. */
export interface ConnectionOptions {
  url?: string;
  key?: string;
}

/**
 * The core URL from --url, TRONPAY_URL or the launcher's launcher.json; the API key from
 * --key or TRONPAY_API_KEY. Throws with a hint when either is missing.
 */
export function resolveConnection(
  opts: ConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  const url = opts.url || env.TRONPAY_URL || readLauncherState(launcherStateFile(env)).coreUrl;
  if (!url) {
    throw new Error("no core URL: pass --url, set TRONPAY_URL, or run `npm start` first");
  }
  const key = opts.key || env.TRONPAY_API_KEY;
  if (!key) {
    throw new Error("no API key: pass --key or set TRONPAY_API_KEY (npm start prints one)");
  }
  return { url, key };
}

/** A typed Connect client (HTTP/2) that presents the key as a bearer token. */
export function connectClient<S extends DescService>(service: S, conn: Connection): Client<S> {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${conn.key}`);
    return next(req);
  };
  return createClient(
    service,
    createConnectTransport({ httpVersion: "2", baseUrl: conn.url, interceptors: [auth] }),
  );
}
