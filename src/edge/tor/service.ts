// The edge's onion service as its config describes it: publishOnion pointed at the onion
// listener, plus the log lines an operator watches for ("onion published" with the address
// on every publication, "onion withdrawn" when Tor goes away) and the state /readyz reports.
import type { Logger } from "../../shared/log.js";
import type { EdgeConfig } from "../config.js";
import type { TorReadiness } from "../static.js";
import type { TorAuth } from "./control.js";
import { type OnionOptions, type OnionService, publishOnion } from "./onion.js";

/** A running onion service of the edge. */
export interface EdgeOnion {
  /** The .onion address once known (kept while Tor restarts). */
  address(): string | undefined;
  /** The state /readyz reports. */
  readiness(): TorReadiness;
  /** Withdraws the service (closes the control connection). */
  stop(): Promise<void>;
}

/** Reconnect and poll tuning; tests shorten them. */
export type OnionTuning = Pick<OnionOptions, "retry" | "pollMs">;

/** How often the publication state is checked for the log lines (ms). */
const WATCH_MS = 250;

/** The control-port credentials from config: the password when set, else the cookie. */
export function torAuthOf(config: EdgeConfig): TorAuth {
  if (config.torControlPassword !== "") {
    return { kind: "password", password: config.torControlPassword };
  }
  return config.torCookieFile === ""
    ? { kind: "cookie" }
    : { kind: "cookie", cookieFile: config.torCookieFile };
}

/** Starts publishing `target` as the onion service in the background; throws on bad keys. */
export function startEdgeOnion(
  config: EdgeConfig,
  target: { host: string; port: number },
  log: Logger,
  tuning: OnionTuning = {},
): EdgeOnion {
  const onion = publishOnion({
    control: { host: config.torControlHost, port: config.torControlPort },
    auth: torAuthOf(config),
    dataDir: config.dataDir,
    target,
    virtualPort: config.onionPort,
    clientAuthV3: config.onionClientAuth,
    log: log.child({ component: "tor" }),
    ...tuning,
  });
  const watch = watchPublication(onion, log);
  return {
    address: () => onion.status().address,
    readiness: () => {
      const s = onion.status();
      return { ready: s.ready, published: s.published, bootstrap: s.bootstrap?.progress };
    },
    stop: async () => {
      clearInterval(watch);
      await onion.stop();
    },
  };
}

/** Logs each change between reachable and not, so a re-publication after a Tor restart shows. */
function watchPublication(onion: OnionService, log: Logger): NodeJS.Timeout {
  let wasReady = false;
  const timer = setInterval(() => {
    const s = onion.status();
    if (s.ready && !wasReady) log.info({ address: s.address }, "onion published");
    if (!s.ready && wasReady) log.warn({ lastError: s.lastError }, "onion withdrawn");
    wasReady = s.ready;
  }, WATCH_MS);
  timer.unref();
  return timer;
}
