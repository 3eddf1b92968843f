import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Client, ServiceImpl } from "@connectrpc/connect";
import type { CommonQueryMethods, DatabasePool } from "slonik";
import type { SignerService } from "../../gen/tronpay/signer/v1/signer_pb.js";
import {
  type AdminService,
  CredentialKind,
  GetPauseStateResponseSchema,
  ListApiKeysResponseSchema,
  QueryAuditLogResponseSchema,
  WhoAmIResponseSchema,
} from "../../gen/tronpay/v1/admin_pb.js";
import type { PageRequest } from "../../gen/tronpay/v1/common_pb.js";
import { Role } from "../../gen/tronpay/v1/options_pb.js";
import { AppError } from "../../shared/errors.js";
import { createApiKey, listApiKeys, ownerOf, revokeApiKey } from "../auth/keys.js";
import { revokeTokensOfKey } from "../auth/tokens.js";
import { credentialKey } from "../interceptors/auth.js";
import { newChainState } from "../kernel/audit-chain.js";
import { type Principal, principalOf } from "../kernel/context.js";
import { type WriteOptions, writeTx } from "../kernel/idempotent-writes.js";
import { pageSizeOf } from "../kernel/page.js";
import { queryAuditLog, verifyAuditRange } from "./audit-query.js";
import { getPauseState, pausePayouts, resumePayouts } from "./pause.js";
import { createTokenHandlers, type TokenHandlerDeps, tokenWrites } from "./token-handlers.js";

export interface AdminDeps {
  pool: DatabasePool;
  clock: () => number;
  /** Token issuing and revocation; without it the token RPCs are left out (unimplemented). */
  tokens?: TokenHandlerDeps["tokens"];
  /** The signer, whose audit checkpoints VerifyAuditLog checks; without it nothing is proven. */
  signer?: Client<typeof SignerService>;
}

/** How WhoAmI names the credential of the call. */
const CREDENTIAL_KINDS = {
  api_key: CredentialKind.API_KEY,
  jwt: CredentialKind.JWT,
  client_cert: CredentialKind.CLIENT_CERTIFICATE,
} as const;

/**
 * AdminService: API keys, the audit log and the pause switch. Writes are idempotent and
 * audited in their transaction. IssueToken, RefreshToken and RevokeToken are left out when no
 * token settings are given (Connect answers them `unimplemented`).
 */
export function createAdminHandlers(deps: AdminDeps): Partial<ServiceImpl<typeof AdminService>> {
  const { pool, clock, tokens } = deps;
  const chain = newChainState();
  return {
    ...(tokens ? createTokenHandlers({ pool, clock, tokens }) : {}),
    async createApiKey(req, ctx) {
      const principal = principalOf(ctx);
      const tx = writeTx(ctx);
      const created = await createApiKey(tx, {
        name: req.name,
        roles: req.roles,
        owner: await newKeyOwner(tx, principal, req.owner),
        createdBy: principal.id,
        now: clock(),
        expiresAt: req.expiresAt ? timestampMs(req.expiresAt) : undefined,
        allowedIps: req.allowedIps,
        onionOnly: req.onionOnly,
      });
      return { apiKey: created.apiKey, key: created.key };
    },

    async listApiKeys(req) {
      const page = await listApiKeys(pool, {
        includeInactive: req.includeInactive,
        now: clock(),
        ...pageOf(req.page),
      });
      return create(ListApiKeysResponseSchema, {
        apiKeys: page.apiKeys,
        page: { nextPageToken: page.nextPageToken },
      });
    },

    async revokeApiKey(req, ctx) {
      const principal = principalOf(ctx);
      const tx = writeTx(ctx);
      const apiKey = await revokeApiKey(tx, {
        id: req.id,
        by: principal.id,
        reason: req.reason,
        now: clock(),
      });
      // "Revokes an API key at once, and every token issued from it" (admin.proto).
      if (tokens)
        await revokeTokensOfKey(tx, tokens.revocations, { apiKeyId: req.id, now: clock() });
      return { apiKey };
    },

    async queryAuditLog(req) {
      const page = await queryAuditLog(pool, {
        actor: req.actor,
        action: req.action,
        subject: req.subject,
        startMs: req.range?.startTime ? timestampMs(req.range.startTime) : undefined,
        endMs: req.range?.endTime ? timestampMs(req.range.endTime) : undefined,
        fromSeq: req.fromSeq,
        ...pageOf(req.page),
      });
      return create(QueryAuditLogResponseSchema, {
        entries: page.entries,
        page: { nextPageToken: page.nextPageToken },
      });
    },

    async verifyAuditLog(req) {
      return verifyAuditRange(pool, chain, deps.signer, req.fromSeq, req.toSeq);
    },

    async pausePayouts(req, ctx) {
      const by = principalOf(ctx).id;
      const state = await pausePayouts(writeTx(ctx), { by, reason: req.reason, now: clock() });
      return { state };
    },

    async resumePayouts(_req, ctx) {
      const by = principalOf(ctx).id;
      return { state: await resumePayouts(writeTx(ctx), { by, now: clock() }) };
    },

    async getPauseState() {
      return create(GetPauseStateResponseSchema, { state: await getPauseState(pool) });
    },

    async whoAmI(_req, ctx) {
      const principal = principalOf(ctx);
      const credential = ctx.values.get(credentialKey);
      const expiresAt = credential?.expiresAt;
      return create(WhoAmIResponseSchema, {
        principal: principal.id,
        roles: [...principal.roles],
        credentialKind: CREDENTIAL_KINDS[credential?.kind ?? "api_key"],
        expiresAt: expiresAt === undefined ? undefined : timestampFromMs(expiresAt),
      });
    },
  };
}

/**
 * The hooks of AdminService's writes: request checks before the transaction, and answers
 * stored without their secrets (a replay never shows a key or a token again).
 */
export function adminWrites(deps: {
  pool: DatabasePool;
  clock: () => number;
  tokens?: TokenHandlerDeps["tokens"];
}): WriteOptions<typeof AdminService> {
  return {
    ...(deps.tokens ? tokenWrites({ ...deps, tokens: deps.tokens }) : {}),
    createApiKey: {
      check(req) {
        if (req.onionClientAuthKey !== "") {
          throw new AppError(
            "request.unsupported",
            "onion client authorization is not supported yet",
            {
              metadata: { field: "onion_client_auth_key" },
            },
          );
        }
      },
      stored: (answer) => ({ ...answer, key: "" }),
    },
    revokeApiKey: {
      check(req) {
        if (req.id === "") throw invalid("id", "id is required");
        if (req.reason.length > 500)
          throw invalid("reason", "reason must be at most 500 characters");
      },
    },
  };
}

/**
 * The owner of a key `creator` makes: the creator's own owner unless `requested` names one;
 * naming another owner is for admins only (auth.permission_denied otherwise).
 */
async function newKeyOwner(
  tx: CommonQueryMethods,
  creator: Principal,
  requested: string,
): Promise<string> {
  const own = await ownerOf(tx, creator.id);
  if (requested === "" || requested === own) return own;
  if (!creator.roles.includes(Role.ADMIN)) {
    throw new AppError("auth.permission_denied", "only an admin may name another owner", {
      metadata: { field: "owner", required: "ROLE_ADMIN" },
    });
  }
  return requested;
}

/** Page size: 0 means 50, capped at 500 (common.proto). */
function pageOf(page: PageRequest | undefined): { pageSize: number; pageToken: string } {
  return { pageSize: pageSizeOf(page?.pageSize), pageToken: page?.pageToken ?? "" };
}

function invalid(field: string, message: string): AppError {
  return new AppError("request.invalid", message, { metadata: { field } });
}
