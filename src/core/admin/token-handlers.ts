import { create } from "@bufbuild/protobuf";
import { type Duration, durationMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool } from "slonik";
import {
  type AdminService,
  type IssuedToken,
  IssuedTokenSchema,
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
import { type WriteOptions, writeTx } from "../kernel/idempotent-writes.js";

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
  const { clock, tokens } = deps;
  return {
    async issueToken(req, ctx) {
      const principal = principalOf(ctx);
      const credential = ctx.values.get(credentialKey);
      const issued = await issueToken(writeTx(ctx), tokens.settings, {
        apiKeyId: credential?.apiKeyId ?? "",
        keyRoles: principal.roles,
        roles: req.roles,
        ttlMs: ttlOf(req.ttl),
        now: clock(),
      });
      return { token: toProto(issued) };
    },

    async refreshToken(req, ctx) {
      const refreshed = await refreshToken(writeTx(ctx), tokens.settings, {
        refreshToken: req.refreshToken,
        now: clock(),
      });
      return { token: toProto(refreshed.issued) };
    },

    async revokeToken(req, ctx) {
      const principal = principalOf(ctx);
      const at = await revokeToken(writeTx(ctx), tokens.revocations, {
        jti: req.jti,
        by: principal.id,
        isAdmin: principal.roles.includes(Role.ADMIN),
        reason: req.reason,
        now: clock(),
      });
      return { revokedAt: timestampFromMs(at) };
    },
  };
}

/**
 * The hooks of the token writes: IssueToken needs an API key, RefreshToken is keyed by its
 * refresh token's id (no principal is authenticated) and revokes the family of a reused one
 * once the refresh rolled back, and no stored (replayable) answer carries a token.
 */
export function tokenWrites(deps: TokenHandlerDeps): WriteOptions<typeof AdminService> {
  const { pool, clock, tokens } = deps;
  const stored = (answer: { token?: IssuedToken }) => ({
    token:
      answer.token &&
      create(IssuedTokenSchema, { ...answer.token, accessToken: "", refreshToken: "" }),
  });
  return {
    issueToken: {
      check(_req, ctx) {
        if (ctx.values.get(credentialKey)?.kind !== "api_key") {
          throw new AppError(
            "auth.permission_denied",
            "IssueToken needs an API key; refresh tokens renew JWTs",
          );
        }
      },
      stored,
    },
    refreshToken: {
      // The refresh token is the credential; its id, not a header, names the principal.
      principal: (req) => `refresh:${req.refreshToken.slice(5, 37)}`,
      stored,
      async failed(err) {
        if (!(err instanceof RefreshTokenReused)) throw err;
        // The refresh rolled back; the revocation commits on its own, then the call is refused.
        await revokeTokenFamily(pool, tokens.revocations, {
          familyId: err.familyId,
          subject: err.subject,
          now: clock(),
        });
        throw unauthenticated(`refresh token reused; family ${err.familyId} revoked`);
      },
    },
    revokeToken: {
      check(req) {
        if (req.reason.length > 500) {
          throw new AppError("request.invalid", "reason must be at most 500 characters", {
            metadata: { field: "reason" },
          });
        }
      },
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
