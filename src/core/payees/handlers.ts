import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import {
  KycStatus,
  type Payee,
  PayeeSchema,
  type PayeeService,
} from "../../gen/tronpay/v1/payee_pb.js";
import { normalizeAddress } from "../../shared/address.js";
import { AppError } from "../../shared/errors.js";
import { principalOf } from "../kernel/context.js";
import { writeTx } from "../kernel/idempotent-writes.js";
import { decodePageToken, pageSizeOf } from "../kernel/page.js";
import { createPayee, deletePayee, livePayee, type PayeeCaller, updatePayee } from "./flows.js";
import { KYC_STATUSES, type KycStatusName, listPayeeRows, type PayeeRow } from "./repo.js";

export interface PayeeHandlerDeps {
  pool: DatabasePool;
  clock: () => number;
  /** Cooling-off before a new or changed address may be paid on route DIRECT (ms). */
  payeeCoolingOffMs: number;
}

type Impl = ServiceImpl<typeof PayeeService>;

/** PayeeService: thin conversions around payees/flows.ts. */
export function createPayeeHandlers(deps: PayeeHandlerDeps): Impl {
  const caller = (ctx: HandlerContext): PayeeCaller => ({
    principal: principalOf(ctx).id,
    now: deps.clock(),
    coolingOffMs: deps.payeeCoolingOffMs,
  });
  return {
    async createPayee(req, ctx) {
      const row = await createPayee(writeTx(ctx), caller(ctx), {
        tag: req.tag,
        displayName: req.displayName,
        address: req.address,
        kycStatus: kycName(req.kycStatus) ?? "NONE",
        allowlisted: req.allowlisted,
      });
      return { payee: payeeToProto(row) };
    },
    async getPayee(req) {
      return { payee: payeeToProto(await livePayee(deps.pool, req.tag)) };
    },
    async listPayees(req) {
      const limit = pageSizeOf(req.page?.pageSize);
      const rows = await listPayeeRows(deps.pool, {
        kycStatuses: req.kycStatuses.map((s) => kycName(s)).filter((s) => s !== undefined),
        allowlisted: req.allowlisted,
        prefix: req.prefix,
        address: req.address === "" ? "" : normalizeAddress(req.address, "address"),
        afterTag: decodeCursor(req.page?.pageToken ?? ""),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const more = rows.length > limit && last !== undefined;
      return {
        payees: page.map(payeeToProto),
        page: { nextPageToken: more ? Buffer.from(last.tag).toString("base64url") : "" },
      };
    },
    async updatePayee(req, ctx) {
      const kyc = req.kycStatus === undefined ? undefined : kycName(req.kycStatus);
      if (req.kycStatus !== undefined && kyc === undefined) {
        throw new AppError("request.invalid", "kyc_status is not a known status", {
          metadata: { field: "kyc_status" },
        });
      }
      const row = await updatePayee(writeTx(ctx), caller(ctx), req.tag, {
        displayName: req.displayName,
        address: req.address,
        kycStatus: kyc,
        allowlisted: req.allowlisted,
      });
      return { payee: payeeToProto(row) };
    },
    async deletePayee(req, ctx) {
      await deletePayee(writeTx(ctx), caller(ctx), req.tag);
      return {};
    },
    async resolvePayee(req) {
      const row = await livePayee(deps.pool, req.tag);
      return {
        tag: row.tag,
        address: row.address,
        usableForDirectAfter: row.allowlisted ? timestampFromMs(row.address_usable_at) : undefined,
        kycStatus: KycStatus[row.kyc_status],
        allowlisted: row.allowlisted,
      };
    },
  };
}

/** The stored name of a proto KYC status; undefined for UNSPECIFIED or unknown numbers. */
function kycName(s: KycStatus): KycStatusName | undefined {
  const name = KycStatus[s] as string | undefined;
  return KYC_STATUSES.find((k) => k === name);
}

/** The proto Payee of a stored row. */
export function payeeToProto(row: PayeeRow): Payee {
  return create(PayeeSchema, {
    tag: row.tag,
    displayName: row.display_name,
    address: row.address,
    kycStatus: KycStatus[row.kyc_status],
    allowlisted: row.allowlisted,
    addressUsableAfter: timestampFromMs(row.address_usable_at),
    createdBy: row.created_by,
    createdAt: timestampFromMs(row.created_at),
    updatedAt: timestampFromMs(row.updated_at),
  });
}

function decodeCursor(token: string): string {
  return decodePageToken(token, /^([a-z0-9][a-z0-9._-]{0,63})$/)?.[0] ?? "";
}
