// The embedded PostgreSQL's own thread (see postgres.ts). PGlite's first start runs initdb in
// WebAssembly synchronously for tens of seconds; here it blocks only this thread, so the
// launcher keeps starting the devnet, the keystore and the children meanwhile.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/** Messages from the launcher. */
export type ToWorker = { type: "serve"; port: number } | { type: "stop" };
/** Answers to the launcher: one per message, plus the first `listening` after start. */
export type FromWorker =
  | { type: "listening"; url: string }
  | { type: "stopped" }
  | { type: "error"; message: string };

const { dataDir, port, maxConnections, templateFile } = workerData as {
  dataDir: string;
  port: number;
  maxConnections: number;
  templateFile: string;
};
const parent = parentPort;
if (!parent) throw new Error("pglite-worker.ts runs as a worker thread only");

async function listen(db: PGlite, on: number): Promise<PGLiteSocketServer> {
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: on, maxConnections });
  await server.start();
  return server;
}

const send = (msg: FromWorker) => parent.postMessage(msg);
const url = (server: PGLiteSocketServer) =>
  `postgres://postgres@${server.getServerConn()}/postgres`;

try {
  const db = await open();
  let server = await listen(db, port);
  parent.on("message", (msg: ToWorker) => {
    const work =
      msg.type === "serve"
        ? (async () => {
            // One listener at a time: the launcher has closed its pool before it asks, and from
            // now on the only client is core, on the new port.
            await server.stop();
            server = await listen(db, msg.port);
            send({ type: "listening", url: url(server) });
          })()
        : (async () => {
            await server.stop();
            await db.close();
            send({ type: "stopped" });
            parent.close();
          })();
    work.catch((err: unknown) => send({ type: "error", message: messageOf(err) }));
  });
  send({ type: "listening", url: url(server) });
} catch (err) {
  send({ type: "error", message: messageOf(err) });
  parent.close();
}

/**
 * Opens the database in dataDir. A new one is unpacked from the template (a fresh initdb's
 * data directory, a few seconds) when there is one; otherwise initdb runs (tens of seconds)
 * and its untouched result becomes the template for the next new database on this machine.
 */
async function open(): Promise<PGlite> {
  // Present while a new database is being made: if the launcher died meanwhile, the next start
  // makes it again rather than open a half-written one (a new database holds nothing yet).
  const making = `${dataDir}.initialising`;
  if (existsSync(making)) rmSync(dataDir, { recursive: true, force: true });
  if (existsSync(join(dataDir, "PG_VERSION"))) return PGlite.create({ dataDir });
  writeFileSync(making, "");
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = existsSync(templateFile)
    ? await PGlite.create({ dataDir, loadDataDir: new Blob([readFileSync(templateFile)]) })
    : await initdbAndKeepTemplate();
  rmSync(making);
  return db;
}

/** initdb, then its untouched result saved as the template, before any client connects. */
async function initdbAndKeepTemplate(): Promise<PGlite> {
  const db = await PGlite.create({ dataDir });
  const dump = await db.dumpDataDir("none");
  mkdirSync(dirname(templateFile), { recursive: true, mode: 0o700 });
  const next = `${templateFile}.${process.pid}.tmp`;
  writeFileSync(next, new Uint8Array(await dump.arrayBuffer()), { mode: 0o600 });
  renameSync(next, templateFile);
  return db;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
