import { parseAddress, toBase58, toHex41, tryParseAddress } from "../../shared/address.js";
import type { NodeClient } from "./node-client.js";
import {
  asObject,
  badResponse,
  intField,
  type NodeObject,
  objField,
  smallIntField,
  strField,
} from "./node-json.js";
import type { Delegation, Delegations, StakeResource, StakingState } from "./types.js";

const RESOURCES: readonly StakeResource[] = ["BANDWIDTH", "ENERGY"];

// java-tron writes the bandwidth resource by omitting `type` (its enum default).
function resourceField(o: NodeObject, what: string): StakeResource | "TRON_POWER" {
  const t = strField(o, "type", what);
  if (t === "" || t === "BANDWIDTH") return "BANDWIDTH";
  if (t === "ENERGY" || t === "TRON_POWER") return t;
  throw badResponse(`${what}.type ${t} is not a resource`);
}

function list(o: NodeObject, key: string, what: string): NodeObject[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw badResponse(`${what}.${key} is not a list`);
  return v.map((e, i) => asObject(e, `${what}.${key}[${i}]`));
}

/** Stake 2.0 figures of an account at the head (getaccount): frozen, lent, borrowed, unfreezing. */
export async function readStakingState(client: NodeClient, address: string): Promise<StakingState> {
  const w = "account";
  const body = { address: toHex41(parseAddress(address)) };
  const [acct, resources] = await Promise.all([
    client.read("/wallet/getaccount", body),
    client.read("/wallet/getaccountresource", body),
  ]);
  const o = asObject(acct, w);
  const totals = asObject(resources, "account resource");
  const res = objField(o, "account_resource", w);
  const frozen = { BANDWIDTH: 0n, ENERGY: 0n };
  for (const f of list(o, "frozenV2", w)) {
    const r = resourceField(f, `${w}.frozenV2[]`);
    if (r !== "TRON_POWER") frozen[r] += intField(f, "amount", `${w}.frozenV2[]`);
  }
  const unfreezes = list(o, "unfrozenV2", w).flatMap((u) => {
    const r = resourceField(u, `${w}.unfrozenV2[]`);
    if (r === "TRON_POWER") return [];
    return [
      {
        resource: r,
        amount: intField(u, "unfreeze_amount", `${w}.unfrozenV2[]`),
        expireTime: smallIntField(u, "unfreeze_expire_time", `${w}.unfrozenV2[]`),
      },
    ];
  });
  unfreezes.sort((a, b) => a.expireTime - b.expireTime);
  return {
    balance: intField(o, "balance", w),
    frozen,
    delegatedOut: {
      BANDWIDTH: intField(o, "delegated_frozenV2_balance_for_bandwidth", w),
      ENERGY: intField(res, "delegated_frozenV2_balance_for_energy", `${w}.account_resource`),
    },
    acquired: {
      BANDWIDTH: intField(o, "acquired_delegated_frozenV2_balance_for_bandwidth", w),
      ENERGY: intField(
        res,
        "acquired_delegated_frozenV2_balance_for_energy",
        `${w}.account_resource`,
      ),
    },
    unfreezes,
    totalEnergyLimit: intField(totals, "TotalEnergyLimit", "account resource"),
    totalEnergyWeight: intField(totals, "TotalEnergyWeight", "account resource"),
  };
}

function addresses(o: NodeObject, key: string): string[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw badResponse(`delegation index.${key} is not a list`);
  return v.map((a) => {
    const parsed = typeof a === "string" ? tryParseAddress(a) : undefined;
    if (!parsed) throw badResponse(`delegation index.${key} holds a non-address`);
    return toBase58(parsed);
  });
}

async function pair(client: NodeClient, from: string, to: string): Promise<Delegation[]> {
  const json = await client.read("/wallet/getdelegatedresourcev2", {
    fromAddress: toHex41(parseAddress(from)),
    toAddress: toHex41(parseAddress(to)),
  });
  const w = "delegated resource";
  return list(asObject(json, w), "delegatedResource", w).flatMap((d) =>
    RESOURCES.flatMap((resource) => {
      const suffix = resource === "ENERGY" ? "energy" : "bandwidth";
      const amount = intField(d, `frozen_balance_for_${suffix}`, w);
      if (amount === 0n) return [];
      const until = smallIntField(d, `expire_time_for_${suffix}`, w);
      const out: Delegation = { from, to, resource, amount };
      if (until > 0) out.lockedUntil = until;
      return [out];
    }),
  );
}

/** Every Stake 2.0 delegation from and to an address, at the head. */
export async function readDelegations(client: NodeClient, address: string): Promise<Delegations> {
  const self = toBase58(parseAddress(address));
  const index = asObject(
    await client.read("/wallet/getdelegatedresourceaccountindexv2", {
      value: toHex41(parseAddress(self)),
    }),
    "delegation index",
  );
  const [out, into] = await Promise.all([
    Promise.all(addresses(index, "toAccounts").map((to) => pair(client, self, to))),
    Promise.all(addresses(index, "fromAccounts").map((from) => pair(client, from, self))),
  ]);
  return { out: out.flat(), in: into.flat() };
}

/** Unfreezes the chain would still accept from an address (32 minus those pending). */
export async function readAvailableUnfreezeCount(
  client: NodeClient,
  address: string,
): Promise<number> {
  const json = await client.read("/wallet/getavailableunfreezecount", {
    owner_address: toHex41(parseAddress(address)),
  });
  return smallIntField(asObject(json, "unfreeze count"), "count", "unfreeze count");
}
