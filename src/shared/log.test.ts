import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./log.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
}

describe("createLogger", () => {
  it("writes JSON lines and redacts secrets by path", () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: "test", destination });
    log.info(
      {
        headers: { authorization: "Bearer abc.def.ghi" },
        req: { headers: { authorization: "tp_key_secretpart" } },
        wallet: { privateKey: "deadbeef", address: "T..." },
        passphrase: "correct horse",
      },
      "hello",
    );
    const line = lines.join("");
    expect(line).not.toContain("abc.def.ghi");
    expect(line).not.toContain("tp_key_secretpart");
    expect(line).not.toContain("deadbeef");
    expect(line).not.toContain("correct horse");
    const parsed = JSON.parse(line);
    expect(parsed.msg).toBe("hello");
    expect(parsed.name).toBe("test");
    expect(parsed.wallet.address).toBe("T...");
  });

  it("logs an err through pino's serializer: type, message, stack and cause", () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: "test", destination });
    const cause = new Error("connection refused");
    log.error({ err: new TypeError("step failed", { cause }) }, "engine step failed");
    const parsed = JSON.parse(lines.join(""));
    expect(parsed.err.type).toBe("TypeError");
    expect(parsed.err.message).toContain("step failed");
    expect(parsed.err.stack).toContain("TypeError: step failed");
    expect(JSON.stringify(parsed.err)).toContain("connection refused");
  });
});
