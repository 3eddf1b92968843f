import { describe, expect, it } from "vitest";
import { Asset } from "../../gen/tronpay/v1/common_pb.js";
import { PayoutBatchState, PayoutRoute, PayoutState } from "../../gen/tronpay/v1/payout_pb.js";
import type { BatchRow } from "./batch-repo.js";
import { assetOf, batchToProto, routeName, routeOf, stateName } from "./convert.js";

describe("proto enums to domain names", () => {
  it("maps assets and routes, unspecified to the empty name", () => {
    expect([Asset.TRX, Asset.USDT, Asset.UNSPECIFIED].map(assetOf)).toEqual(["TRX", "USDT", ""]);
    const routes = [PayoutRoute.V0, PayoutRoute.KYC, PayoutRoute.DIRECT, PayoutRoute.UNSPECIFIED];
    expect(routes.map(routeOf)).toEqual(["V0", "KYC", "DIRECT", ""]);
    expect(routeName(PayoutRoute.KYC)).toBe("KYC");
    expect(stateName(PayoutState.CONFIRMED)).toBe("CONFIRMED");
  });
});

describe("batchToProto", () => {
  const row: BatchRow = {
    id: "b-1",
    state: "COMPLETED",
    item_count: 3,
    principal: "key:ops",
    created_at: 1_700_000_000_000,
    completed_at: 1_700_000_060_000,
  };

  it("sums the counts per state and the amounts per asset", () => {
    const batch = batchToProto(row, [
      { state: "CONFIRMED", asset: "USDT", n: 2, total: 3_000_000n },
      { state: "CONFIRMED", asset: "TRX", n: 1, total: 1n },
      { state: "FAILED", asset: "USDT", n: 1, total: 500_000n },
    ]);
    expect(batch.state).toBe(PayoutBatchState.COMPLETED);
    expect(batch.stateCounts.map((c) => [c.state, c.count])).toEqual([
      [PayoutState.CONFIRMED, 3],
      [PayoutState.FAILED, 1],
    ]);
    expect(batch.totals.map((t) => [t.asset, t.value])).toEqual([
      [Asset.USDT, "3.5"],
      [Asset.TRX, "0.000001"],
    ]);
    expect(batch.createdBy).toBe("key:ops");
    expect(Number(batch.updatedAt?.seconds)).toBe(1_700_000_060);
  });

  it("uses the creation time as the update time of a batch not completed", () => {
    const open = batchToProto({ ...row, state: "OPEN", completed_at: null }, []);
    expect(open.updatedAt).toEqual(open.createdAt);
    expect(open.stateCounts).toEqual([]);
  });
});
