import type { Command } from "commander";
import { openDatabase } from "../core/db/pool.js";
import { type AuditAnchor, verifyAuditConsistent } from "../core/kernel/audit-verify.js";
import { checkpointValid } from "../shared/audit-checkpoint.js";
import { readCheckpointJournal } from "../signer/audit-checkpoints.js";

interface VerifyFlags {
  publicKey?: string;
  checkpointJournal?: string;
}

/**
 * `tronpay audit verify`: recomputes the audit log's hash chain straight from the database
 * (DATABASE_URL), page by page, and holds it to the checkpoints signed by the signer's audit
 * key. Exits 1 when an entry was altered, removed or inserted out of order, or a checkpoint
 * does not match; says which range no checkpoint proves.
 */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command("audit")
    .description("the hash-chained audit log (needs DATABASE_URL)");
  audit
    .command("verify")
    .description("recompute the whole chain and check its signed checkpoints; exit 1 on a problem")
    .option(
      "--public-key <hex>",
      "the signer's audit public key (the signer logs it at start; TRONPAY_AUDIT_PUBLIC_KEY)",
    )
    .option(
      "--checkpoint-journal <path>",
      "the signer's audit-checkpoints.log, whose latest checkpoint the database cannot hide",
    )
    .action(async (flags: VerifyFlags) => {
      const url = process.env.DATABASE_URL;
      if (!url) throw new Error("DATABASE_URL is not set");
      const anchor = anchorOf(flags.publicKey ?? process.env.TRONPAY_AUDIT_PUBLIC_KEY, flags);
      // Read-only on purpose: no migrations, no chaining, so verifying never changes the database.
      const pool = await openDatabase(url, 1);
      try {
        const r = await verifyAuditConsistent(pool, { anchor });
        const out: string[] = [];
        if (r.ok) {
          out.push(`audit log intact: ${r.checked} entries verified`);
        } else {
          out.push(
            `audit log BROKEN at seq ${String(r.firstBadSeq)}: ${r.problem} (${r.checked} entries verified before it)`,
          );
          process.exitCode = 1;
        }
        if (anchor === undefined) {
          out.push("no --public-key: checkpoints not checked, nothing is proven");
        } else if (r.provenSeq > 0n) {
          out.push(
            `proven through seq ${r.provenSeq} (checkpoint signed ${new Date(r.provenAtMs ?? 0).toISOString()})`,
          );
        }
        if (r.ok && r.lastSeq > r.provenSeq) {
          out.push(`unproven: seq ${r.provenSeq + 1n}..${r.lastSeq} (after the last checkpoint)`);
        }
        if (r.unchained > 0) {
          out.push(
            `${r.unchained} entries not chained yet (oldest written ${new Date(r.oldestUnchainedMs ?? 0).toISOString()})`,
          );
        }
        process.stdout.write(`${out.join("\n")}\n`);
      } finally {
        await pool.end();
      }
    });
}

/** The trusted key, and the journal's checkpoints when one is given (each line checked). */
function anchorOf(publicKeyHex: string | undefined, flags: VerifyFlags): AuditAnchor | undefined {
  if (publicKeyHex === undefined || publicKeyHex === "") {
    if (flags.checkpointJournal) throw new Error("--checkpoint-journal needs --public-key");
    return undefined;
  }
  if (!/^[0-9a-f]{64}$/.test(publicKeyHex)) {
    throw new Error("--public-key must be 64 lowercase hex characters");
  }
  const publicKey = Buffer.from(publicKeyHex, "hex");
  if (!flags.checkpointJournal) return { publicKey };
  const entries = readCheckpointJournal(flags.checkpointJournal);
  for (const c of entries) {
    if (!checkpointValid(c, publicKey)) {
      throw new Error(`a checkpoint in ${flags.checkpointJournal} is not signed by that key`);
    }
  }
  // The file is the signer's: all its lines are read at once (one line per checkpoint interval).
  return {
    publicKey,
    checkpoints: async function* () {
      yield* entries;
    },
  };
}
