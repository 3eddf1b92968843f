import { type AddressInfo, connect, createServer, type Server } from "node:net";
import { Writable } from "node:stream";
import { sql } from "slonik";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/core/db/pool.js";
import { openWhenUp } from "../../src/core/db/wait.js";
import { createLogger } from "../../src/shared/log.js";
import { TEST_DATABASE_URL } from "../helpers/db.js";

const target = new URL(TEST_DATABASE_URL);
let proxy: Server | undefined;

afterEach(() => {
  proxy?.close();
  proxy = undefined;
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The test PostgreSQL, reachable on `port` only from now on (a TCP relay). */
function openRelay(port: number): Server {
  return createServer((client) => {
    const server = connect(Number(target.port || 5432), target.hostname);
    client.pipe(server).pipe(client);
    client.on("error", () => server.destroy());
    server.on("error", () => client.destroy());
  }).listen(port, "127.0.0.1");
}

function urlOn(port: number): string {
  const u = new URL(TEST_DATABASE_URL);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.href;
}

function capturingLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger({ name: "test", level: "info", destination: sink }), lines };
}

describe("core waits for its database at start (TRONPAY_DATABASE_WAIT_SEC)", () => {
  it("keeps trying while nothing listens, then opens the pool once the database answers", async () => {
    const port = await freePort();
    const { log, lines } = capturingLog();
    const opening = openWhenUp(() => openDatabase(urlOn(port), 1), {
      waitMs: 30_000,
      retryMs: 100,
      log,
    });
    await new Promise((r) => setTimeout(r, 1_000));
    proxy = openRelay(port);
    const pool = await opening;
    try {
      expect(await pool.oneFirst(sql.unsafe`SELECT 41 + 1 AS n`)).toBe(42);
    } finally {
      await pool.end();
    }
    expect(lines.some((l) => l.includes("waiting for the database"))).toBe(true);
    expect(lines.some((l) => l.includes("database is up"))).toBe(true);
  }, 60_000);

  it("gives up with the connection error once the wait is over", async () => {
    const port = await freePort();
    let tries = 0;
    const started = Date.now();
    const failed = await openWhenUp(
      () => {
        tries++;
        return openDatabase(urlOn(port), 1);
      },
      { waitMs: 800, retryMs: 100, log: capturingLog().log },
    ).catch((err: unknown) => err);
    expect(String(failed)).toMatch(/ECONNREFUSED/);
    expect(tries).toBeGreaterThan(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
  }, 30_000);

  it("tries once without a wait, as before", async () => {
    const port = await freePort();
    let tries = 0;
    const failed = await openWhenUp(
      () => {
        tries++;
        return openDatabase(urlOn(port), 1);
      },
      { waitMs: 0, log: capturingLog().log },
    ).catch((err: unknown) => err);
    expect(String(failed)).toMatch(/ECONNREFUSED/);
    expect(tries).toBe(1);
  }, 30_000);
});
