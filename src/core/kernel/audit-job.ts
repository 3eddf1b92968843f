import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import type {
  AuditCheckpoint as ProtoCheckpoint,
  SignerService,
} from "../../gen/tronpay/signer/v1/signer_pb.js";
import type { AuditCheckpoint } from "../../shared/audit-checkpoint.js";
import { type Clock, systemClock } from "../../shared/clock.js";
import { reasonOf } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import { advisoryUnlock, tryAdvisoryLock } from "../db/locks.js";
import { type ChainState, chainAudit, checkpointAudit, newChainState } from "./audit-chain.js";
import { lastAllocatedAuditSeq } from "./audit-repo.js";
import { type AuditAnchor, type AuditVerification, verifyAuditConsistent } from "./audit-verify.js";

// Arbitrary constant: the advisory lock that keeps replicas from verifying together.
const JOB_LOCK = 7_242_004;

export interface AuditJobDeps {
  pool: DatabasePool;
  log: Logger;
  signer: Client<typeof SignerService>;
  /** How often the whole chain is verified (ms). */
  intervalMs: number;
  /** How often committed entries are linked into the chain (ms). */
  chainIntervalMs: number;
  /** How often the chain head is signed as a checkpoint, when it moved (ms). */
  checkpointIntervalMs: number;
  /** Told each verification's result and when it ran (ms since the epoch); for metrics. */
  onVerified: (ok: boolean, atMs: number) => void;
  /** When a verification ran, as told to onVerified; default the system clock. */
  clock?: Clock;
}

/**
 * The signer's audit key and every checkpoint it journaled (paged as verification reads them):
 * what verification trusts.
 */
export async function signerAnchor(signer: Client<typeof SignerService>): Promise<AuditAnchor> {
  const first = await signer.listAuditCheckpoints({ afterSeq: 0n });
  async function* checkpoints(): AsyncGenerator<AuditCheckpoint> {
    let page = first;
    for (;;) {
      for (const c of page.checkpoints) yield checkpointFromProto(c);
      const last = page.checkpoints.at(-1);
      if (last === undefined || page.checkpoints.length < 1000) return;
      page = await signer.listAuditCheckpoints({ afterSeq: last.seq });
    }
  }
  return { publicKey: first.publicKey, checkpoints };
}

function checkpointFromProto(c: ProtoCheckpoint): AuditCheckpoint {
  return {
    seq: c.seq,
    hash: c.hash,
    signedAtMs: c.signedAt === undefined ? 0 : timestampMs(c.signedAt),
    signature: c.signature,
  };
}

/**
 * Links what has committed, waiting (briefly) until every entry that had committed when it was
 * called is linked, so that a read right after a write sees it chained. Gives up after
 * `timeoutMs` when a long transaction holds the chain back; verify then reports the backlog.
 */
export async function catchUpAudit(
  pool: DatabasePool,
  state: ChainState,
  timeoutMs = 2000,
): Promise<void> {
  const target = await lastAllocatedAuditSeq(pool);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const linked = await chainAudit(pool, state);
    if (linked !== undefined && state.settled >= target) return;
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One pass: verifies the whole audit hash chain against the signer's checkpoints unless
 * another replica is doing it. Returns the result, or undefined when it did not run.
 */
export async function verifyAuditOnce(
  deps: Pick<AuditJobDeps, "pool" | "log" | "signer" | "onVerified" | "clock">,
): Promise<AuditVerification | undefined> {
  const anchor = await signerAnchor(deps.signer);
  return deps.pool.connect(async (conn) => {
    if (!(await tryAdvisoryLock(conn, JOB_LOCK))) return undefined;
    try {
      const result = await verifyAuditConsistent(conn, { anchor });
      deps.onVerified(result.ok, (deps.clock ?? systemClock)());
      const summary = {
        checked: result.checked,
        lastSeq: result.lastSeq.toString(),
        provenSeq: result.provenSeq.toString(),
        unchained: result.unchained,
      };
      if (result.ok) deps.log.info(summary, "audit chain verified");
      else
        deps.log.error(
          { ...summary, firstBadSeq: result.firstBadSeq?.toString(), problem: result.problem },
          "audit chain does not verify",
        );
      return result;
    } finally {
      await advisoryUnlock(conn, JOB_LOCK);
    }
  });
}

/** Chains, checkpoints and verifies the audit log on their intervals until stopped. */
export function startAuditJob(deps: AuditJobDeps): { stop(): Promise<void> } {
  const state = newChainState();
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<unknown>>();
  const every = (ms: number, what: string, pass: () => Promise<unknown>) => {
    let busy = false;
    const run = () => {
      if (busy) return;
      busy = true;
      const p = pass()
        .catch((err) => deps.log.error({ err, reason: reasonOf(err) }, `audit ${what} pass failed`))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    };
    run();
    const timer = setInterval(run, ms);
    timer.unref();
    timers.push(timer);
  };
  every(deps.chainIntervalMs, "chain", () => chainAudit(deps.pool, state));
  every(deps.checkpointIntervalMs, "checkpoint", () => checkpointAudit(deps.pool, deps.signer));
  every(deps.intervalMs, "verification", () => verifyAuditOnce(deps));
  return {
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all([...running]);
    },
  };
}
