import { create } from "@bufbuild/protobuf";
import { type Duration, durationMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import {
  type AdminService,
  type IssuedToken,
  IssuedTokenSchema,
  IssueTokenRequestSchema,
  IssueTokenResponseSchema,
  RefreshTokenRequestSchema,
  RefreshTokenResponseSchema,
  RevokeTokenRequestSchema,
  RevokeTokenResponseSchema,
} from "../../gen/tronpay/v1/admin_pb.js";
import { Role } from "../../gen/tronpay/v1/options_pb.js";
import { unauthenticated } from "../../shared/credentials.js";
import { AppError } from "../../shared/errors.js";
import type { RevocationList } from "../auth/revocation.js";
import {
  type Issued,
  issueToken,
  RefreshTokenReused,
  refreshToken,
  revokeToken,
  revokeTokenFamily,
  type TokenSettings,
} from "../auth/tokens.js";
import { credentialKey } from "../interceptors/auth.js";
import { principalOf } from "../kernel/context.js";
import { idempotent } from "../kernel/idempotency.js";

export interface TokenHandlerDeps {
  pool: DatabasePool;
  clock: () => number;
  tokens: { settings: TokenSettings; revocations: RevocationList };
}

type TokenHandlers = Pick<
  ServiceImpl<typeof AdminService>,
  "issueToken" | "refreshToken" | "revokeToken"
>;

/** IssueToken, RefreshToken and RevokeToken: idempotent, audited; tokens are never replayed. */
export function createTokenHandlers(deps: TokenHandlerDeps): TokenHandlers {
  const { pool, clock, tokens } = deps;
  return {
    async issueToken(req, ctx) {
      const principal = principalOf(ctx);
      const credential = ctx.values.get(credentialKey);
      if (credential?.kind !== "api_key") {
        throw new AppError(
          "auth.permission_denied",
          "IssueToken needs an API key; refresh tokens renew JWTs",
        );
      }
      let issued: Issued | undefined;
      const answer = await idempotent(
        pool,
        {
          principal: principal.id,
          method: "tronpay.v1.AdminService/IssueToken",
          requestSchema: IssueTokenRequestSchema,
          request: req,
          responseSchema: IssueTokenResponseSchema,
        },
        async (tx) => {
          issued = await issueToken(tx, tokens.settings, {
            apiKeyId: credential.apiKeyId,
            keyRoles: principal.roles,
            roles: req.roles,
            ttlMs: ttlOf(req.ttl),
            now: clock(),
          });
          // The stored (replayable) answer carries no secrets.
          return { token: withoutSecrets(issued) };
        },
      );
      return issued ? create(IssueTokenResponseSchema, { token: toProto(issued) }) : answer;
    },

    async refreshToken(req) {
      // The refresh token is the credential; its id, not a header, names the principal.
      const subject = `refresh:${req.refreshToken.slice(5, 37)}`;
      let issued: Issued | undefined;
      const answer = await idempotent(
        pool,
        {
          principal: subject,
          method: "tronpay.v1.AdminService/RefreshToken",
          requestSchema: RefreshTokenRequestSchema,
          request: req,
          responseSchema: RefreshTokenResponseSchema,
        },
        async (tx) => {
          issued = (
            await refreshToken(tx, tokens.settings, {
              refreshToken: req.refreshToken,
              now: clock(),
            })
          ).issued;
          return { token: withoutSecrets(issued) };
        },
      ).catch(async (err: unknown) => {
        if (!(err instanceof RefreshTokenReused)) throw err;
        // The refresh rolled back; the revocation commits on its own, then the call is refused.
        await revokeTokenFamily(pool, tokens.revocations, {
          familyId: err.familyId,
          subject: err.subject,
          now: clock(),
        });
        throw unauthenticated(`refresh token reused; family ${err.familyId} revoked`);
      });
      return issued ? create(RefreshTokenResponseSchema, { token: toProto(issued) }) : answer;
    },

    async revokeToken(req, ctx) {
      const principal = principalOf(ctx);
      if (req.reason.length > 500) {
        throw new AppError("request.invalid", "reason must be at most 500 characters", {
          metadata: { field: "reason" },
        });
      }
      return idempotent(
        pool,
        {
          principal: principal.id,
          method: "tronpay.v1.AdminService/RevokeToken",
          requestSchema: RevokeTokenRequestSchema,
          request: req,
          responseSchema: RevokeTokenResponseSchema,
        },
        async (tx) => {
          const at = await revokeToken(tx, tokens.revocations, {
            jti: req.jti,
            by: principal.id,
            isAdmin: principal.roles.includes(Role.ADMIN),
            reason: req.reason,
            now: clock(),
          });
          return { revokedAt: timestampFromMs(at) };
        },
      );
    },
  };
}

function ttlOf(ttl: Duration | undefined): number | undefined {
  return ttl === undefined ? undefined : durationMs(ttl);
}

function toProto(issued: Issued): IssuedToken {
  return create(IssuedTokenSchema, {
    ...withoutSecrets(issued),
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
  });
}

function withoutSecrets(issued: Issued): IssuedToken {
  return create(IssuedTokenSchema, {
    tokenType: "Bearer",
    jti: issued.jti,
    expiresAt: timestampFromMs(issued.expiresAt),
    refreshExpiresAt: timestampFromMs(issued.refreshExpiresAt),
  });
}
