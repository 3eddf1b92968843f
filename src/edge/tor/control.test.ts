import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.js";
import { openControl, type TorAuth } from "./control.js";

/** A scripted stand-in for Tor's control port: answers each command line with `answer`. */
type Script = (line: string, socket: Socket) => string | undefined;

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function fakeTor(script: Script): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((socket) => {
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      for (let end = buffer.indexOf("\r\n"); end >= 0; end = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        seen.push(line);
        const answer = script(line, socket);
        if (answer !== undefined) socket.write(answer);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, seen };
}

/** A cookie file and a script that implements SAFECOOKIE with it (`lie`: a wrong server hash). */
function safeCookieTor(cookie: Buffer, rest: Script, lie = false): Script {
  const serverNonce = randomBytes(32);
  let clientNonce = Buffer.alloc(0);
  const mac = (key: string) =>
    createHmac("sha256", key)
      .update(Buffer.concat([cookie, clientNonce, serverNonce]))
      .digest("hex");
  return (line, socket) => {
    if (line === "PROTOCOLINFO 1") {
      return '250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/nowhere"\r\n250-VERSION Tor="0.4.9"\r\n250 OK\r\n';
    }
    if (line.startsWith("AUTHCHALLENGE SAFECOOKIE ")) {
      clientNonce = Buffer.from(line.split(" ")[2] as string, "hex");
      const hash = lie
        ? "00".repeat(32)
        : mac("Tor safe cookie authentication server-to-controller hash");
      return `250 AUTHCHALLENGE SERVERHASH=${hash} SERVERNONCE=${serverNonce.toString("hex")}\r\n`;
    }
    if (line.startsWith("AUTHENTICATE ")) {
      const ok = line.slice(13) === mac("Tor safe cookie authentication controller-to-server hash");
      return ok
        ? "250 OK\r\n"
        : "515 Authentication failed: Safe cookie response did not match expected value.\r\n";
    }
    return rest(line, socket);
  };
}

function cookieFile(cookie: Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), "tronpay-ctl-")), "control_auth_cookie");
  writeFileSync(path, cookie);
  return path;
}

const none: Script = () => "510 Unrecognized command\r\n";

async function reasonOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return (err as AppError).reason;
}

describe("the control-port client", () => {
  it("authenticates with SAFECOOKIE without sending the cookie itself", async () => {
    const cookie = randomBytes(32);
    const tor = await fakeTor(safeCookieTor(cookie, none));
    const control = await openControl(
      { host: "127.0.0.1", port: tor.port },
      {
        kind: "cookie",
        cookieFile: cookieFile(cookie),
      },
    );
    control.close();
    expect(tor.seen.some((l) => l.includes(cookie.toString("hex")))).toBe(false);
    expect(tor.seen.at(-1)).toMatch(/^AUTHENTICATE [0-9a-f]{64}$/);
  });

  it("refuses a control port that cannot prove it knows the cookie", async () => {
    const cookie = randomBytes(32);
    const tor = await fakeTor(safeCookieTor(cookie, none, true));
    const auth: TorAuth = { kind: "cookie", cookieFile: cookieFile(cookie) };
    expect(await reasonOf(openControl({ host: "127.0.0.1", port: tor.port }, auth))).toBe(
      "tor.auth_failed",
    );
    expect(tor.seen.some((l) => l.startsWith("AUTHENTICATE"))).toBe(false);
  });

  it("maps a refused password to tor.auth_failed", async () => {
    const tor = await fakeTor((line) =>
      line === "PROTOCOLINFO 1"
        ? "250-AUTH METHODS=HASHEDPASSWORD\r\n250 OK\r\n"
        : "515 Authentication failed: Password did not match HashedControlPassword value.\r\n",
    );
    const auth: TorAuth = { kind: "password", password: "wrong" };
    expect(await reasonOf(openControl({ host: "127.0.0.1", port: tor.port }, auth))).toBe(
      "tor.auth_failed",
    );
    expect(tor.seen.at(-1)).toBe('AUTHENTICATE "wrong"');
  });

  it("refuses a control port that offers no authentication at all", async () => {
    const tor = await fakeTor(() => "250-AUTH METHODS=NULL\r\n250 OK\r\n");
    const auth: TorAuth = { kind: "cookie" };
    expect(await reasonOf(openControl({ host: "127.0.0.1", port: tor.port }, auth))).toBe(
      "tor.auth_failed",
    );
  });

  it("reads bootstrap state while an async event arrives before the reply", async () => {
    const cookie = randomBytes(32);
    const events: string[] = [];
    const tor = await fakeTor(
      safeCookieTor(cookie, (line) => {
        if (line.startsWith("SETEVENTS")) return "250 OK\r\n";
        return '650 STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED\r\n250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=75 TAG=enough_dirinfo SUMMARY="Loaded enough directory info"\r\n250 OK\r\n';
      }),
    );
    const control = await openControl(
      { host: "127.0.0.1", port: tor.port },
      {
        kind: "cookie",
        cookieFile: cookieFile(cookie),
      },
    );
    await control.events(["STATUS_CLIENT"], (e) => events.push(e));
    const state = await control.bootstrap();
    control.close();
    expect(state).toEqual({ progress: 75, done: false, summary: "Loaded enough directory info" });
    expect(events).toEqual(["STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED"]);
  });

  it("turns a refused command into tor.command_failed without Tor's text in the message", async () => {
    const cookie = randomBytes(32);
    const tor = await fakeTor(safeCookieTor(cookie, () => '552 Unrecognized key "x/y"\r\n'));
    const control = await openControl(
      { host: "127.0.0.1", port: tor.port },
      {
        kind: "cookie",
        cookieFile: cookieFile(cookie),
      },
    );
    const err = await control.getInfo("x/y").catch((e: unknown) => e);
    control.close();
    expect((err as AppError).reason).toBe("tor.command_failed");
    expect((err as AppError).message).not.toContain("Unrecognized");
  });

  it("fails a command that gets no answer in time with tor.unavailable", async () => {
    const cookie = randomBytes(32);
    const tor = await fakeTor(safeCookieTor(cookie, () => undefined));
    const control = await openControl(
      { host: "127.0.0.1", port: tor.port, timeoutMs: 200 },
      {
        kind: "cookie",
        cookieFile: cookieFile(cookie),
      },
    );
    expect(await reasonOf(control.bootstrap())).toBe("tor.unavailable");
    // The connection is dropped: a late answer could otherwise be matched to the next command.
    expect(await reasonOf(control.getInfo("version"))).toBe("tor.unavailable");
  });

  it("refuses a command with a line break before sending anything", async () => {
    const cookie = randomBytes(32);
    const tor = await fakeTor(safeCookieTor(cookie, () => "250 OK\r\n"));
    const control = await openControl(
      { host: "127.0.0.1", port: tor.port },
      {
        kind: "cookie",
        cookieFile: cookieFile(cookie),
      },
    );
    const before = tor.seen.length;
    expect(await reasonOf(control.command("GETINFO version\r\nSIGNAL HALT"))).toBe(
      "tor.command_failed",
    );
    await new Promise((r) => setTimeout(r, 50));
    control.close();
    expect(tor.seen.length).toBe(before);
  });

  it("reports an unreachable control port as tor.unavailable", async () => {
    const tor = await fakeTor(none);
    for (const s of servers.splice(0)) s.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(
      await reasonOf(openControl({ host: "127.0.0.1", port: tor.port }, { kind: "cookie" })),
    ).toBe("tor.unavailable");
  });
});
