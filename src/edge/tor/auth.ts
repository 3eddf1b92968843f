// Control-port authentication: SAFECOOKIE when Tor offers it (the cookie itself never
// crosses the socket, and Tor proves it knows the cookie too), else COOKIE, or a password.
// A control port without authentication is refused: anyone on the host could steer Tor.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { AppError } from "../../shared/errors.js";
import type { TorControl } from "./control.js";
import { parseKeywords, quote } from "./reply.js";

/** How to authenticate: the cookie file (path as Tor reports it, unless given) or a password. */
export type TorAuth =
  | { kind: "cookie"; cookieFile?: string }
  | { kind: "password"; password: string };

const SERVER_KEY = "Tor safe cookie authentication server-to-controller hash";
const CLIENT_KEY = "Tor safe cookie authentication controller-to-server hash";

/** Authenticates a fresh connection; throws tor.auth_failed when Tor refuses. */
export async function authenticate(control: TorControl, auth: TorAuth): Promise<void> {
  const info = await protocolInfo(control);
  if (auth.kind === "password") {
    if (!info.methods.has("HASHEDPASSWORD")) throw refused("Tor does not accept a password");
    await control.command(`AUTHENTICATE ${quote(auth.password)}`);
    return;
  }
  const file = auth.cookieFile ?? info.cookieFile;
  if (!file) throw refused("Tor names no cookie file");
  const cookie = await readFile(file).catch((err: unknown) => {
    throw new AppError("tor.auth_failed", "Tor's control cookie cannot be read", { cause: err });
  });
  if (info.methods.has("SAFECOOKIE")) return safeCookie(control, cookie);
  if (info.methods.has("COOKIE")) {
    await control.command(`AUTHENTICATE ${cookie.toString("hex")}`);
    return;
  }
  throw refused(`Tor offers neither SAFECOOKIE nor COOKIE`);
}

async function protocolInfo(control: TorControl) {
  const reply = await control.command("PROTOCOLINFO 1");
  let methods = new Set<string>();
  let cookieFile: string | undefined;
  for (const line of reply.lines) {
    if (!line.text.startsWith("AUTH ")) continue;
    const words = parseKeywords(line.text.slice(5));
    methods = new Set((words.get("METHODS") ?? "").split(","));
    cookieFile = words.get("COOKIEFILE");
  }
  return { methods, cookieFile };
}

/** AUTHCHALLENGE, check Tor's hash over our nonce, answer with ours. */
async function safeCookie(control: TorControl, cookie: Buffer): Promise<void> {
  const clientNonce = randomBytes(32);
  const reply = await control.command(`AUTHCHALLENGE SAFECOOKIE ${clientNonce.toString("hex")}`);
  const words = parseKeywords(reply.lines.at(-1)?.text.replace(/^AUTHCHALLENGE /, "") ?? "");
  const serverHash = Buffer.from(words.get("SERVERHASH") ?? "", "hex");
  const serverNonce = Buffer.from(words.get("SERVERNONCE") ?? "", "hex");
  if (serverNonce.length !== 32) throw refused("Tor's AUTHCHALLENGE answer is malformed");
  const message = Buffer.concat([cookie, clientNonce, serverNonce]);
  const expected = createHmac("sha256", SERVER_KEY).update(message).digest();
  // A process that merely listens on the port cannot know the cookie: don't talk to it.
  if (serverHash.length !== expected.length || !timingSafeEqual(serverHash, expected)) {
    throw refused("the control port failed to prove it knows the cookie");
  }
  const answer = createHmac("sha256", CLIENT_KEY).update(message).digest("hex");
  await control.command(`AUTHENTICATE ${answer}`);
}

function refused(why: string): AppError {
  return new AppError("tor.auth_failed", "Tor's control port cannot be authenticated", {
    cause: new Error(why),
  });
}
