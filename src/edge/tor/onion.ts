// Publishes the edge as a v3 onion service through Tor's control port and keeps it
// published: after Tor restarts (or the control connection drops) it reconnects and adds
// the service again with the same stored key, so the address never changes.
//
// The service is added WITHOUT Flags=Detach: Tor removes it when our control connection
// closes. The onion then lives exactly as long as the edge that serves it (no orphan
// address answering with connection refused after a crash), and a restarted edge never
// collides with a detached copy of its own service still registered in Tor.
import { AppError } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import {
  type BootstrapState,
  type ControlOptions,
  openControl,
  type TorAuth,
  type TorControl,
} from "./control.js";
import { loadOnionKey, saveOnionKey } from "./onion-key.js";
import { parseKeywords } from "./reply.js";

/** What the publisher needs. */
export interface OnionOptions {
  control: ControlOptions;
  auth: TorAuth;
  /** The edge's data directory; the onion key is kept here (0600). */
  dataDir: string;
  /** The edge's onion listener that the onion's port forwards to. */
  target: { host: string; port: number };
  /** The port clients use on the .onion address, default 80. */
  virtualPort?: number;
  /** x25519 public keys (base32) of authorized clients; empty or absent: anyone may connect. */
  clientAuthV3?: readonly string[];
  log: Logger;
  /** Reconnect delay, doubling from initialMs to maxMs (default 500 ms → 30 s). */
  retry?: { initialMs: number; maxMs: number };
  /** How often Tor's bootstrap state is refreshed while connected, default 2 s. */
  pollMs?: number;
}

/** The publisher's view for readiness and logs. */
export interface OnionStatus {
  /** "<56 base32 chars>.onion" once known (kept while reconnecting). */
  readonly address: string | undefined;
  /** Added to the Tor we are connected to right now. */
  readonly published: boolean;
  /** Tor's bootstrap state, undefined while not connected. */
  readonly bootstrap: BootstrapState | undefined;
  /** published and Tor bootstrapped. */
  readonly ready: boolean;
  /** The reason of the last failure, cleared on success. */
  readonly lastError: string | undefined;
}

/** A running publisher. */
export interface OnionService {
  status(): OnionStatus;
  /** Resolves with the address once ready; rejects with tor.unavailable after timeoutMs. */
  ready(timeoutMs?: number): Promise<string>;
  /** Stops reconnecting and closes the control connection (Tor withdraws the service). */
  stop(): Promise<void>;
}

const X25519_BASE32 = /^[A-Z2-7]{52}$/;

interface PublisherState {
  address: string | undefined;
  published: boolean;
  /** How many times the service was added; a publication resets the reconnect delay. */
  publications: number;
  bootstrap: BootstrapState | undefined;
  lastError: string | undefined;
  stopped: boolean;
  control: TorControl | undefined;
}

/** Starts publishing in the background; see status() and ready(). Throws on invalid options. */
export function publishOnion(opts: OnionOptions): OnionService {
  const clients = (opts.clientAuthV3 ?? []).map(clientKey);
  const portLine = `Port=${opts.virtualPort ?? 80},${target(opts.target.host, opts.target.port)}`;
  const state: PublisherState = {
    address: undefined,
    published: false,
    publications: 0,
    bootstrap: undefined,
    lastError: undefined,
    stopped: false,
    control: undefined,
  };
  let wake = () => {};
  const initialMs = opts.retry?.initialMs ?? 500;
  const loop = (async () => {
    let delay = initialMs;
    while (!state.stopped) {
      const before = state.publications;
      try {
        await serve(opts, { portLine, clients }, state);
      } catch (err) {
        state.lastError = err instanceof AppError ? err.reason : "internal";
        if (!state.stopped) opts.log.warn({ err }, "onion service not published; retrying");
      }
      if (state.publications !== before) delay = initialMs;
      if (state.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delay = Math.min(delay * 2, opts.retry?.maxMs ?? 30_000);
    }
  })();
  const status = (): OnionStatus => ({
    address: state.address,
    published: state.published,
    bootstrap: state.bootstrap,
    ready: state.published && state.bootstrap?.done === true,
    lastError: state.lastError,
  });
  return {
    status,
    ready: (timeoutMs = 60_000) => untilReady(status, timeoutMs),
    stop: async () => {
      state.stopped = true;
      state.control?.close();
      wake();
      await loop;
    },
  };
}

/** Polls status() until ready; tor.unavailable after timeoutMs. */
async function untilReady(status: () => OnionStatus, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = status();
    if (s.ready && s.address) return s.address;
    if (Date.now() > deadline) {
      throw new AppError("tor.unavailable", "the onion service is not published yet");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The ADD_ONION arguments that do not change between publications. */
interface ServiceLines {
  portLine: string;
  clients: string[];
}

/** One connection's life: authenticate, add the service, watch bootstrap until it drops. */
async function serve(
  opts: OnionOptions,
  lines: ServiceLines,
  state: PublisherState,
): Promise<void> {
  const control = await openControl(opts.control, opts.auth);
  state.control = control;
  try {
    if (state.stopped) return;
    const address = `${await addOnion(control, opts.dataDir, lines)}.onion`;
    if (state.address && state.address !== address) {
      opts.log.error({ was: state.address, now: address }, "onion address changed");
    }
    state.address = address;
    state.published = true;
    state.publications++;
    state.lastError = undefined;
    opts.log.info({ address, clientAuth: lines.clients.length }, "onion service published");
    for (;;) {
      state.bootstrap = await control.bootstrap();
      const closed = await Promise.race([
        control.closed.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), opts.pollMs ?? 2_000)),
      ]);
      if (closed) break;
    }
  } finally {
    state.published = false;
    state.bootstrap = undefined;
    control.close();
  }
  if (!state.stopped) throw new AppError("tor.unavailable", "Tor's control connection closed");
}

/** ADD_ONION with the stored key, or a new key that is stored before the address is used. */
async function addOnion(
  control: TorControl,
  dataDir: string,
  lines: ServiceLines,
): Promise<string> {
  const stored = loadOnionKey(dataDir);
  const parts = ["ADD_ONION", stored ? `ED25519-V3:${stored}` : "NEW:ED25519-V3"];
  if (lines.clients.length > 0) parts.push("Flags=V3Auth");
  parts.push(lines.portLine);
  for (const c of lines.clients) parts.push(`ClientAuthV3=${c}`);
  const reply = await control.command(parts.join(" "));
  const words = new Map<string, string>();
  for (const line of reply.lines) for (const [k, v] of parseKeywords(line.text)) words.set(k, v);
  const serviceId = words.get("ServiceID");
  if (!serviceId || !/^[a-z2-7]{56}$/.test(serviceId)) {
    throw new AppError("tor.command_failed", "Tor did not return a v3 onion address");
  }
  if (!stored) {
    const key = words.get("PrivateKey")?.replace(/^ED25519-V3:/, "");
    try {
      saveOnionKey(dataDir, key ?? "");
    } catch (err) {
      // An address whose key we could not keep would change on the next start: withdraw it.
      await control.command(`DEL_ONION ${serviceId}`).catch(() => {});
      throw err;
    }
  }
  return serviceId;
}

/** A client's x25519 public key, as base32 or in Tor's "descriptor:x25519:<key>" form. */
function clientKey(text: string): string {
  const key = text
    .trim()
    .replace(/^descriptor:x25519:/, "")
    .toUpperCase();
  if (!X25519_BASE32.test(key)) {
    throw new AppError("config.invalid", "an onion client key is not a base32 x25519 public key");
  }
  return key;
}

function target(host: string, port: number): string {
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new AppError("config.invalid", "the onion target is not host and port");
  }
  return `${host}:${port}`;
}
