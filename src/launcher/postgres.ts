import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/** An embedded PostgreSQL (PGlite) reachable over TCP as if it were a real server. */
export interface EmbeddedPostgres {
  /** postgres:// URL for slonik/pg. */
  readonly url: string;
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

/** Opens (or creates) the database in `dataDir` and serves it on 127.0.0.1:`port` (0: free). */
export async function startEmbeddedPostgres(dataDir: string, port = 0): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create({ dataDir });
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port,
    maxConnections: PGLITE_MAX_CONNECTIONS,
  });
  await server.start();
  // After start() the server reports the port it actually bound.
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
