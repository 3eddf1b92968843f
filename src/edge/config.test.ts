import { describe, expect, it } from "vitest";
import { describeConfig, loadConfig } from "../shared/config.js";
import { AppError } from "../shared/errors.js";
import { checkTorListener, edgeConfigSpec } from "./config.js";
import { torAuthOf } from "./tor/service.js";

const load = (env: Record<string, string>) => loadConfig(edgeConfigSpec, { env });

function refusal(env: Record<string, string>): string | undefined {
  try {
    checkTorListener(load(env));
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.reason : "not an AppError";
  }
}

describe("the edge's Tor config", () => {
  it("defaults to Tor off, control port 127.0.0.1:9051, onion port 80 and .data/edge", () => {
    const config = load({});
    expect(config).toMatchObject({
      torMode: "off",
      torControlHost: "127.0.0.1",
      torControlPort: 9051,
      onionPort: 80,
      dataDir: ".data/edge",
      onionClientAuth: [],
      clearnet: false,
    });
  });

  it("reads TOR_MODE, the control port and a comma-separated list of client keys", () => {
    const config = load({
      TOR_MODE: "required",
      TOR_CONTROL_HOST: "tor",
      TOR_CONTROL_PORT: "9151",
      TRONPAY_ONION_CLIENT_AUTH: "AAAA, BBBB",
    });
    expect(config).toMatchObject({
      torMode: "required",
      torControlHost: "tor",
      torControlPort: 9151,
      onionClientAuth: ["AAAA", "BBBB"],
    });
  });

  it("rejects an unknown TOR_MODE", () => {
    expect(() => load({ TOR_MODE: "sometimes" })).toThrow(/torMode/);
  });

  it("redacts the control password when the config is printed", () => {
    const config = load({ TOR_CONTROL_PASSWORD: "hunter2-not-real" });
    const printed = JSON.stringify(describeConfig(edgeConfigSpec, config));
    expect(printed).not.toContain("hunter2-not-real");
    expect(describeConfig(edgeConfigSpec, config).torControlPassword).toBe("[redacted]");
  });

  it("authenticates with the password when one is set, else with the cookie", () => {
    expect(torAuthOf(load({ TOR_CONTROL_PASSWORD: "pw" }))).toEqual({
      kind: "password",
      password: "pw",
    });
    expect(torAuthOf(load({ TOR_COOKIE_FILE: "/run/tor/control.authcookie" }))).toEqual({
      kind: "cookie",
      cookieFile: "/run/tor/control.authcookie",
    });
    expect(torAuthOf(load({}))).toEqual({ kind: "cookie" });
  });
});

describe("where REST may listen in TOR_MODE=required", () => {
  it("accepts loopback hosts", () => {
    for (const host of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"]) {
      expect(refusal({ TOR_MODE: "required", TRONPAY_EDGE_HOST: host })).toBeUndefined();
    }
  });

  it("refuses a non-loopback host unless clearnet is set", () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "edge.example"]) {
      expect(refusal({ TOR_MODE: "required", TRONPAY_EDGE_HOST: host })).toBe("config.invalid");
    }
    expect(
      refusal({
        TOR_MODE: "required",
        TRONPAY_EDGE_HOST: "0.0.0.0",
        TRONPAY_EDGE_CLEARNET: "true",
      }),
    ).toBeUndefined();
  });

  it("allows a Unix socket for the plain listener (the onion targets its own listener)", () => {
    expect(
      refusal({ TOR_MODE: "required", TRONPAY_EDGE_SOCKET: "/tmp/edge.sock" }),
    ).toBeUndefined();
  });

  it("refuses a forward secret too short to be a key", () => {
    expect(refusal({ TRONPAY_EDGE_FORWARD_SECRET: "short" })).toBe("config.invalid");
    expect(refusal({ TRONPAY_EDGE_FORWARD_SECRET: "k".repeat(32) })).toBeUndefined();
  });

  it("places no restriction when Tor is off", () => {
    expect(refusal({ TRONPAY_EDGE_HOST: "0.0.0.0" })).toBeUndefined();
  });
});
