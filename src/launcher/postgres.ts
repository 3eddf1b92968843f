import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { FromWorker, ToWorker } from "./pglite-worker.js";

/** An embedded PostgreSQL (PGlite) reachable over TCP as if it were a real server. */
export interface EmbeddedPostgres {
  /** postgres:// URL of the current listener, for slonik/pg. */
  readonly url: string;
  /**
   * Closes the current listener and listens on 127.0.0.1:`port` instead (0: a free port); the
   * database stays open. Resolves with the new URL (also `url` from then on).
   */
  serveOn(port: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * How many client connections the socket server accepts. PGlite is one backend: the socket
 * server queues every protocol message from every connection onto it, and only keeps a
 * connection's messages together while that connection is inside an explicit transaction
 * (BEGIN … COMMIT). The messages of one extended-protocol query (Parse, Bind, Execute, Sync)
 * are not kept together outside a transaction, so two connections that query at once can
 * interleave on the unnamed statement. Clients must therefore use one connection at a time;
 * the second slot only absorbs a pool replacing a connection it has just closed.
 */
export const PGLITE_MAX_CONNECTIONS = 2;

/** The pool size every client of the embedded database must use (see above). */
export const PGLITE_POOL_SIZE = 1;

/**
 * The worker's code. From a checkout (tsx), a worker thread does not inherit tsx's loader, so
 * it registers tsx itself before importing the TypeScript entry, as bin/tronpay.js does.
 */
function workerSource(): string {
  if (!import.meta.url.endsWith(".ts")) {
    return `import(${JSON.stringify(new URL("./pglite-worker.js", import.meta.url).href)});`;
  }
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(new URL("./pglite-worker.ts", import.meta.url).href);
  return `import(${tsx}).then((m) => { m.register(); return import(${entry}); });`;
}

/**
 * Where a new embedded database is unpacked from: the data directory of PGlite's initdb, made
 * by the first new database on this machine (initdb is most of a first start) and kept with
 * the installed packages, per PGlite version (a new version makes its own).
 */
export function pgliteTemplateFile(): string {
  const root = new URL("../../", import.meta.url).pathname;
  const pkg = join(root, "node_modules/@electric-sql/pglite/package.json");
  const { version } = JSON.parse(readFileSync(pkg, "utf8")) as { version: string };
  return join(root, "node_modules/.cache/tronpay", `pglite-${version}-initdb.tar`);
}

/**
 * Opens (or creates) the database in `dataDir` in a worker thread and serves it on
 * 127.0.0.1:`port` (0: a free port). The worker keeps PGlite's first start (initdb, tens of
 * seconds of WebAssembly) off the launcher's thread.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port = 0,
  templateFile = pgliteTemplateFile(),
): Promise<EmbeddedPostgres> {
  const worker = new Worker(workerSource(), {
    eval: true,
    workerData: { dataDir, port, maxConnections: PGLITE_MAX_CONNECTIONS, templateFile },
  });
  // One request at a time; each is answered by exactly one message (or the worker's end).
  const next = () =>
    new Promise<FromWorker>((resolve, reject) => {
      const onMessage = (msg: FromWorker) => {
        worker.off("error", onError).off("exit", onExit);
        resolve(msg);
      };
      const onError = (err: Error) => {
        worker.off("message", onMessage).off("exit", onExit);
        reject(err);
      };
      const onExit = (code: number) => {
        worker.off("message", onMessage).off("error", onError);
        reject(new Error(`the embedded PostgreSQL's thread exited (${code})`));
      };
      worker.once("message", onMessage).once("error", onError).once("exit", onExit);
    });
  const ask = async (msg?: ToWorker): Promise<FromWorker> => {
    const answer = next();
    if (msg) worker.postMessage(msg);
    const got = await answer;
    if (got.type === "error") throw new Error(`embedded PostgreSQL: ${got.message}`);
    return got;
  };
  const urlOf = (msg: FromWorker) => (msg.type === "listening" ? msg.url : "");
  let url = urlOf(
    await ask().catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    }),
  );
  return {
    get url() {
      return url;
    },
    async serveOn(on) {
      url = urlOf(await ask({ type: "serve", port: on }));
      return url;
    },
    async stop() {
      await ask({ type: "stop" });
      await worker.terminate();
    },
  };
}
