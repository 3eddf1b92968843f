import { createHash, randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Transport } from "@connectrpc/connect";
import {
  AdminService,
  CredentialKind,
  WhoAmIRequestSchema,
} from "../../gen/tronpay/v1/admin_pb.js";
import type { Authenticate, Authenticated } from "../../shared/access-gate.js";
import { type ClientOrigin, encodeOrigin, originHeaders } from "../../shared/client-origin.js";
import { looksLikeJwt, parseKey, unauthenticated } from "../../shared/credentials.js";
import { reasonOf } from "../../shared/errors.js";
import { TtlCache } from "../../shared/ttl-cache.js";

/**
 * The edge's credential check. The edge has no database and no token keys, so it asks core
 * (AdminService.WhoAmI, with the client's credential) and keeps the answer for a short while,
 * bounded in size: keyed by the sha256 of the credential and the client's origin (a key bound to
 * addresses or to the onion gets a different answer elsewhere), never the credential itself.
 * The question carries the client's origin, MAC'd with the forward secret. Core stays
 * the one authority (one place verifies keys, tokens, revocations and the external JWKS); a
 * revoked key or token passes the edge for at most `ttlMs` more, and core refuses it
 * meanwhile anyway. Credentials that cannot be ours by their shape never reach core.
 */

export interface WhoAmIOptions {
  /** Connect transport to core. */
  transport: Transport;
  /** How long an answer (accepted or refused) is kept; 0 keeps none. */
  ttlMs: number;
  /** Credentials kept at most. */
  maxEntries: number;
  /** Deadline of one WhoAmI call (ms). */
  deadlineMs: number;
  /** Key of the MAC on the client's origin (see shared/client-origin.ts); "" states none. */
  forwardSecret: string;
  clock: () => number;
}

type Answer = { ok: Authenticated } | { refused: true };

/** An Authenticate (see the access gate) that asks core and caches the answer. */
export function createWhoAmIAuthenticator(options: WhoAmIOptions): Authenticate {
  const cache = new TtlCache<Answer>(options.maxEntries, options.clock);
  // Concurrent requests with one new credential share one question to core.
  const asking = new Map<string, Promise<Answer>>();

  const ask = (
    key: string,
    presented: string,
    origin: ClientOrigin,
    requestId: string | undefined,
  ) => {
    const pending = asking.get(key);
    if (pending) return pending;
    const question = askCore(options, presented, origin, requestId)
      .then((answer) => {
        cache.set(key, answer, ttlOf(answer, options));
        return answer;
      })
      .finally(() => asking.delete(key));
    asking.set(key, question);
    return question;
  };

  return async (presented, from) => {
    if (parseKey(presented) === undefined && !looksLikeJwt(presented)) {
      throw unauthenticated("the credential is neither an API key nor a JWT");
    }
    const key = createHash("sha256")
      .update(`${encodeOrigin(from.origin)}\n${presented}`)
      .digest("base64url");
    const answer = cache.get(key) ?? (await ask(key, presented, from.origin, from.requestId));
    if ("refused" in answer) throw unauthenticated("core refused the credential (WhoAmI)");
    return answer.ok;
  };
}

async function askCore(
  options: WhoAmIOptions,
  presented: string,
  origin: ClientOrigin,
  requestId: string | undefined,
): Promise<Answer> {
  const header = new Headers({ authorization: `Bearer ${presented}` });
  // The origin statement is MAC'd with the request id, so the question always carries one.
  const id = requestId ?? randomUUID();
  header.set("x-request-id", id);
  const call = {
    procedure: `/${AdminService.typeName}/${AdminService.method.whoAmI.name}`,
    requestId: id,
  };
  for (const [name, value] of originHeaders(options.forwardSecret, origin, call)) {
    header.set(name, value);
  }
  try {
    const { message } = await options.transport.unary(
      AdminService.method.whoAmI,
      undefined,
      options.deadlineMs,
      header,
      create(WhoAmIRequestSchema),
    );
    const jwt = message.credentialKind === CredentialKind.JWT;
    return {
      ok: {
        principal: { id: message.principal, roles: [...message.roles] },
        credential: {
          kind: jwt ? "jwt" : "api_key",
          apiKeyId: message.principal.startsWith("key:") ? message.principal.slice(4) : "",
          expiresAt: message.expiresAt ? timestampMs(message.expiresAt) : undefined,
        },
      },
    };
  } catch (err) {
    // Only core's verdict on the credential is an answer; anything else (core unreachable, a
    // limit) is passed on to the client and not remembered.
    if (reasonOf(err) === "auth.unauthenticated") return { refused: true };
    throw err;
  }
}

/** An accepted token or API key is not kept past its expiry. */
function ttlOf(answer: Answer, options: WhoAmIOptions): number {
  if ("refused" in answer) return options.ttlMs;
  const expiresAt = answer.ok.credential.expiresAt;
  if (expiresAt === undefined) return options.ttlMs;
  return Math.min(options.ttlMs, expiresAt - options.clock());
}
