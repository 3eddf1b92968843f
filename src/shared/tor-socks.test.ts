import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "./errors.js";
import { createSocksFetch } from "./tor-socks.js";

/** What a stand-in SOCKS5 server saw for one connection. */
interface SocksRequest {
  user: string;
  /** 1 IPv4, 3 domain name, 4 IPv6 (RFC 1928). */
  atyp: number;
  host: string;
  port: number;
}

/**
 * A minimal SOCKS5 server with username/password auth (RFC 1928/1929) that connects every
 * request to `target`, whatever host it names: it records what Tor would have been asked.
 */
function fakeSocks(target: number, seen: SocksRequest[]): Server {
  return createServer((client: Socket) => {
    let buf = Buffer.alloc(0);
    let step = 0;
    let user = "";
    client.on("data", function onData(chunk: Buffer) {
      buf = Buffer.concat([buf, chunk]);
      if (step === 0 && buf.length >= 2 && buf.length >= 2 + (buf[1] as number)) {
        buf = buf.subarray(2 + (buf[1] as number));
        client.write(Buffer.from([5, 2]));
        step = 1;
      }
      if (step === 1 && buf.length >= 2) {
        const ulen = buf[1] as number;
        const plen = buf[2 + ulen];
        if (plen === undefined || buf.length < 3 + ulen + plen) return;
        user = buf.subarray(2, 2 + ulen).toString();
        buf = buf.subarray(3 + ulen + plen);
        client.write(Buffer.from([1, 0]));
        step = 2;
      }
      if (step === 2 && buf.length >= 5) {
        const atyp = buf[3] as number;
        const len = atyp === 3 ? 1 + (buf[4] as number) : atyp === 1 ? 4 : 16;
        if (buf.length < 4 + len + 2) return;
        const raw = buf.subarray(4, 4 + len);
        const host = atyp === 3 ? raw.subarray(1).toString() : [...raw].join(".");
        seen.push({ user, atyp, host, port: buf.readUInt16BE(4 + len) });
        const rest = buf.subarray(4 + len + 2);
        client.off("data", onData);
        const upstream = connect(target, "127.0.0.1", () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          if (rest.length > 0) upstream.write(rest);
          client.pipe(upstream).pipe(client);
        });
        upstream.on("error", () => client.destroy());
      }
    });
    client.on("error", () => {});
  });
}

const listen = async (server: Server | HttpServer): Promise<number> => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
};

describe("the Tor fetch", () => {
  const seen: SocksRequest[] = [];
  let directConnections = 0;
  let web: HttpServer;
  let socks: Server;
  let socksPort = 0;
  let webPort = 0;

  beforeAll(async () => {
    web = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        res.setHeader("x-echo", `${req.method} ${req.url} ${req.headers["content-type"]}`);
        res.end(body);
      });
    });
    web.on("connection", () => directConnections++);
    webPort = await listen(web);
    socks = fakeSocks(webPort, seen);
    socksPort = await listen(socks);
  });
  afterAll(() => {
    web.close();
    socks.close();
    web.closeAllConnections();
  });

  it("asks the SOCKS server for the host name, unresolved, and returns the answer", async () => {
    const f = createSocksFetch({ host: "127.0.0.1", port: socksPort });
    const res = await f("http://tron-node.invalid:8090/wallet/getnowblock", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"visible":true}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-echo")).toBe("POST /wallet/getnowblock application/json");
    expect(await res.text()).toBe('{"visible":true}');
    expect(seen.at(-1)).toMatchObject({ atyp: 3, host: "tron-node.invalid", port: 8090 });
  });

  it("uses one SOCKS username per destination, so Tor isolates their circuits", async () => {
    const f = createSocksFetch({ host: "127.0.0.1", port: socksPort });
    const from = seen.length;
    for (const url of [
      "http://a.invalid/",
      "http://b.invalid/",
      "http://a.invalid:81/",
      "http://a.invalid/x",
    ]) {
      await (await f(url, { headers: { connection: "close" } })).text();
    }
    const users = seen.slice(from).map((s) => s.user);
    expect(new Set(users.slice(0, 3)).size).toBe(3);
    expect(users[3]).toBe(users[0]);
    expect(users.join()).not.toContain("a.invalid");
  });

  it("fails with tor.unavailable when the SOCKS port is closed, and connects nowhere else", async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    const before = directConnections;
    const f = createSocksFetch({ host: "127.0.0.1", port });
    const err = await f(`http://127.0.0.1:${webPort}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).reason).toBe("tor.unavailable");
    expect(directConnections).toBe(before);
  });

  it("rejects with the abort reason when the caller's signal fires", async () => {
    const silent = createServer(() => {});
    const port = await listen(silent);
    const f = createSocksFetch({ host: "127.0.0.1", port });
    const err = await f("http://x.invalid/", { signal: AbortSignal.timeout(100) }).catch(
      (e: unknown) => e,
    );
    silent.close();
    expect((err as Error).name).toBe("TimeoutError");
  });

  it("refuses schemes other than http and https", async () => {
    const f = createSocksFetch({ host: "127.0.0.1", port: socksPort });
    await expect(f("file:///etc/passwd")).rejects.toThrow(TypeError);
  });
});
