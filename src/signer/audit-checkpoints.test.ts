import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkpointValid } from "../shared/audit-checkpoint.js";
import { reasonOf } from "../shared/errors.js";
import { CheckpointJournal } from "./audit-checkpoints.js";
import { JournalCorruptError } from "./journal.js";

const hash = () => randomBytes(32).toString("hex");
const fresh = () => {
  const path = join(mkdtempSync(join(tmpdir(), "tp-cp-")), "audit-checkpoints.log");
  return { path, secret: randomBytes(32) };
};

describe("the audit checkpoint journal", () => {
  it("signs heads that move forward, answers a repeat with the journaled checkpoint, and survives a restart", () => {
    const { path, secret } = fresh();
    const j = CheckpointJournal.open(path, secret);
    const h5 = hash();
    const first = j.sign(5n, h5);
    expect(first.reused).toBe(false);
    expect(checkpointValid(first.checkpoint, j.publicKey)).toBe(true);
    expect(j.sign(5n, h5)).toEqual({ checkpoint: first.checkpoint, reused: true });
    j.sign(9n, hash());
    j.close();
    const again = CheckpointJournal.open(path, secret);
    expect(again.list(0n, 10).map((c) => c.seq)).toEqual([5n, 9n]);
    expect(again.list(5n, 10).map((c) => c.seq)).toEqual([9n]);
    again.close();
  });

  it("refuses a head below the latest, or the latest seq with another hash", () => {
    const { path, secret } = fresh();
    const j = CheckpointJournal.open(path, secret);
    j.sign(7n, hash());
    for (const [seq, h] of [
      [3n, hash()],
      [7n, hash()],
    ] as const) {
      let err: unknown;
      try {
        j.sign(seq, h);
      } catch (e) {
        err = e;
      }
      expect(reasonOf(err)).toBe("signer.audit_checkpoint_conflict");
    }
    expect(() => j.sign(8n, "not a hash")).toThrow(/hash/);
    expect(j.list(0n, 10)).toHaveLength(1);
    j.close();
  });

  it("refuses to open a journal with a line the key did not sign", () => {
    const { path, secret } = fresh();
    const j = CheckpointJournal.open(path, secret);
    j.sign(1n, hash());
    j.close();
    const line = JSON.parse(readFileSync(path, "utf8").trim());
    appendFileSync(path, `${JSON.stringify({ ...line, seq: "2", hash: hash() })}\n`);
    expect(() => CheckpointJournal.open(path, secret)).toThrow(JournalCorruptError);
    writeFileSync(path, "");
    expect(() => CheckpointJournal.open(path, randomBytes(32)).close()).not.toThrow();
  });

  it("keeps each audit key's checkpoints in a file of its own", () => {
    const dir = mkdtempSync(join(tmpdir(), "tp-cp-"));
    const [a, b] = [randomBytes(32), randomBytes(32)];
    expect(CheckpointJournal.pathFor(dir, a)).not.toBe(CheckpointJournal.pathFor(dir, b));
    const ja = CheckpointJournal.open(CheckpointJournal.pathFor(dir, a), a);
    ja.sign(3n, hash());
    ja.close();
    // Another seed's key opens its own, empty journal instead of failing on the first one's.
    const jb = CheckpointJournal.open(CheckpointJournal.pathFor(dir, b), b);
    expect(jb.latest()).toBeUndefined();
    jb.close();
  });
});
