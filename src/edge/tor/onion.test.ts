import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.js";
import { createLogger } from "../../shared/log.js";
import { type OnionOptions, publishOnion } from "./onion.js";

// Publication against a real Tor is in test/tor/tor.test.ts; these cover what needs none.
const log = createLogger({ name: "test", level: "silent" });

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const options = (over: Partial<OnionOptions>): OnionOptions => ({
  control: { host: "127.0.0.1", port: 1, timeoutMs: 500 },
  auth: { kind: "cookie" },
  dataDir: mkdtempSync(join(tmpdir(), "tronpay-onion-")),
  target: { host: "127.0.0.1", port: 8080 },
  log,
  retry: { initialMs: 20, maxMs: 50 },
  ...over,
});

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.reason : "not an AppError";
  }
  return "no error";
};

describe("publishOnion", () => {
  it("refuses a client key that is not a base32 x25519 public key, before connecting", () => {
    expect(reasonOf(() => publishOnion(options({ clientAuthV3: ["not-a-key"] })))).toBe(
      "config.invalid",
    );
  });

  it("refuses a target that would add arguments to ADD_ONION", () => {
    const target = { host: "127.0.0.1 Flags=Detach", port: 8080 };
    expect(reasonOf(() => publishOnion(options({ target })))).toBe("config.invalid");
  });

  it("is not ready and reports tor.unavailable while the control port is down", async () => {
    const onion = publishOnion(
      options({ control: { host: "127.0.0.1", port: await closedPort() } }),
    );
    const err = await onion.ready(300).catch((e: unknown) => e);
    const status = onion.status();
    await onion.stop();
    expect((err as AppError).reason).toBe("tor.unavailable");
    expect(status).toMatchObject({ ready: false, published: false, lastError: "tor.unavailable" });
    expect(status.address).toBeUndefined();
  });
});
