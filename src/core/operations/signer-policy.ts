import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import { Asset } from "../../gen/tronpay/v1/common_pb.js";
import type { Logger } from "../../shared/log.js";
import { parseAmount } from "../../shared/money.js";
// The signer's own rule functions (pure, no keys): core refuses with exactly the reasons and
// rules the signer would give, because it runs the same code on the policy the signer reports.
import { checkDeclared, type DeclaredPolicy, type IntentKind } from "../../signer/policy.js";

/** The signer's policy as GetPolicy and ListKeys reported it, at `fetchedAt`. */
export interface SignerPolicySnapshot {
  policy: DeclaredPolicy;
  /** The signer's keys: address → import time (ms), or undefined for a derived key. */
  keys: ReadonlyMap<string, number | undefined>;
  fetchedAt: number;
}

/** What core knows of the signer's policy: the last snapshot, refreshed when it is old. */
export interface SignerPolicyView {
  /**
   * The snapshot, refreshed first when older than the view's max age, or when it does not list
   * `address` as a key (a wallet created since; asked only for allowances and delegations, which
   * are rare); undefined if there is none.
   */
  current(address?: string): Promise<SignerPolicySnapshot | undefined>;
}

/** Fetches the policy and the keys from the signer. */
export async function fetchSignerPolicy(
  signer: Client<typeof SignerService>,
  now: number,
): Promise<SignerPolicySnapshot> {
  const [p, k] = await Promise.all([
    signer.getPolicy({}, { timeoutMs: 3_000 }),
    signer.listKeys({}, { timeoutMs: 3_000 }),
  ]);
  const cap = (asset: Asset) => {
    const c = p.caps.find((x) => x.asset === asset);
    // A cap the signer did not report is no cap core can enforce; the signer still does.
    return c ? parseAmount(c.perTransactionMax) : 2n ** 63n - 1n;
  };
  const coolingOff = p.importedKeyCoolingOff;
  return {
    policy: {
      allowMemo: p.memoAllowed,
      allowlist: [...p.allowlist],
      denylist: [...p.denylist],
      ownReceiversOnly: p.ownReceiversOnly,
      maxPerTx: { TRX: cap(Asset.TRX), USDT: cap(Asset.USDT) },
      importedKeyCoolingOffMs: coolingOff
        ? Number(coolingOff.seconds) * 1000 + Math.floor(coolingOff.nanos / 1e6)
        : 0,
    },
    keys: new Map(
      k.keys.map((key) => [
        key.address,
        key.imported ? (key.createdAt ? timestampMs(key.createdAt) : now) : undefined,
      ]),
    ),
    fetchedAt: now,
  };
}

/**
 * A view that asks the signer again once its snapshot is older than `maxAgeMs`. While the
 * signer cannot be reached the last snapshot stands (the signer checks again at signing), and
 * it is asked again only `maxAgeMs` after the failure, so requests do not each wait on it.
 */
export function createSignerPolicyView(deps: {
  signer: Client<typeof SignerService>;
  log: Logger;
  clock: () => number;
  maxAgeMs: number;
}): SignerPolicyView {
  let last: SignerPolicySnapshot | undefined;
  let inflight: Promise<void> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  const refresh = () => {
    inflight ??= fetchSignerPolicy(deps.signer, deps.clock())
      .then((s) => {
        last = s;
      })
      .catch((err: unknown) => {
        failedAt = deps.clock();
        deps.log.warn({ err }, "signer policy could not be read; using the last one known");
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
  return {
    async current(address) {
      const age = last ? deps.clock() - last.fetchedAt : Number.POSITIVE_INFINITY;
      const missed = address !== undefined && last !== undefined && !last.keys.has(address);
      const resting = deps.clock() - failedAt < deps.maxAgeMs;
      if ((age >= deps.maxAgeMs || missed) && !resting) await refresh();
      return last;
    },
  };
}

/** What core is about to ask the signer to sign, in the signer's terms. */
export interface DeclaredIntent {
  kind: IntentKind;
  counterparty: string;
  amount: bigint;
  memo: string;
}

/**
 * Throws the signer's own `signer.policy_denied` (metadata.rule as the signer names it) when
 * the signer's policy, as last reported, would refuse the intent. No view or no snapshot yet:
 * nothing to check here (the signer still checks at signing).
 */
export async function refuseWhatSignerRefuses(
  view: SignerPolicyView | undefined,
  intent: DeclaredIntent,
  now: number,
): Promise<void> {
  // Whether a receiver is one of the signer's keys decides allowances and delegations: a wallet
  // created after the snapshot must not be taken for a stranger. (Payouts never go to our own.)
  const ownness = intent.kind === "USDT_APPROVE" || intent.kind === "DELEGATE";
  const snapshot = await view?.current(ownness ? intent.counterparty : undefined);
  if (!snapshot) return;
  checkDeclared(
    intent,
    snapshot.policy,
    (a) => snapshot.keys.has(a),
    (a) => snapshot.keys.get(a),
    now,
  );
}
