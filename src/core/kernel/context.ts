import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Principal } from "../../shared/access-gate.js";
import { AppError } from "../../shared/errors.js";

/** Who is calling: set by the auth interceptor, read by handlers. */
export type { Principal } from "../../shared/access-gate.js";

/** The authenticated principal of a call (undefined only before auth has run). */
export const principalKey = createContextKey<Principal | undefined>(undefined, {
  description: "principal",
});

/** The request id of a call, for logs and audit. */
export const requestIdKey = createContextKey<string>("", { description: "request id" });

/** The principal of a call; throws `auth.unauthenticated` if auth did not run (a wiring bug). */
export function principalOf(ctx: HandlerContext): Principal {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw new AppError("auth.unauthenticated", "authentication required");
  return principal;
}
