import { describe, expect, it } from "vitest";
import { parseKeywords, quote, type Reply, ReplyReader } from "./reply.js";

function readAll(chunks: string[]): Reply[] {
  const out: Reply[] = [];
  const reader = new ReplyReader((r) => out.push(r));
  for (const c of chunks) reader.push(c);
  return out;
}

describe("ReplyReader", () => {
  it("ends a reply at the line with a space separator, across chunk boundaries", () => {
    const replies = readAll([
      "250-ServiceID=abc\r\n250-Priv",
      "ateKey=ED25519-V3:x\r\n250 OK\r",
      "\n",
    ]);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.status).toBe(250);
    expect(replies[0]?.lines.map((l) => l.text)).toEqual([
      "ServiceID=abc",
      "PrivateKey=ED25519-V3:x",
      "OK",
    ]);
  });

  it("reads a + data block up to the lone dot and undoubles leading dots", () => {
    const [reply] = readAll(["250+config-text=\r\nA 1\r\n..hidden\r\n.\r\n250 OK\r\n"]);
    expect(reply?.lines[0]?.data).toEqual(["A 1", ".hidden"]);
    expect(reply?.lines[1]?.text).toBe("OK");
  });

  it("keeps async events as replies of their own between command replies", () => {
    const replies = readAll(["650 STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED\r\n250 OK\r\n"]);
    expect(replies.map((r) => r.status)).toEqual([650, 250]);
  });

  it("rejects a line that is not a reply line", () => {
    expect(() => readAll(["hello\r\n"])).toThrow();
  });
});

describe("parseKeywords", () => {
  it("reads bare and quoted values with escapes, and positional words", () => {
    const words = parseKeywords(
      'NOTICE BOOTSTRAP PROGRESS=85 TAG=ap_conn SUMMARY="Connecting to a \\"relay\\" \\\\ x"',
    );
    expect(words.get("0")).toBe("NOTICE");
    expect(words.get("1")).toBe("BOOTSTRAP");
    expect(words.get("PROGRESS")).toBe("85");
    expect(words.get("SUMMARY")).toBe('Connecting to a "relay" \\ x');
  });

  it("round-trips what quote() writes", () => {
    const value = 'pa"ss\\word';
    expect(parseKeywords(`P=${quote(value)}`).get("P")).toBe(value);
  });

  it("refuses an unterminated quoted string", () => {
    expect(() => parseKeywords('A="open')).toThrow();
  });
});
