import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { type RouteDeps, registerRoutes } from "../../src/core/app/routes.js";
import { isIdempotentWrite } from "../../src/core/kernel/idempotent-writes.js";
import { accessOf, publicServices } from "../../src/shared/api.js";

/** The handler objects registerRoutes hands the router, by service. */
function registered(): Map<DescService, Record<string, unknown>> {
  const impls = new Map<DescService, Record<string, unknown>>();
  const router = {
    service(service: DescService, impl: Record<string, unknown>) {
      impls.set(service, impl);
      return router;
    },
    rpc() {
      return router;
    },
    handlers: [],
  } as unknown as ConnectRouter;
  // Handler factories only keep their deps; tokens present so the token RPCs are registered.
  registerRoutes({ tokens: {} } as unknown as RouteDeps)(router);
  return impls;
}

describe("idempotent writes", () => {
  const impls = registered();
  const methods = publicServices.flatMap((s) => s.methods);

  it.each(methods.map((m) => [`${m.parent.name}.${m.name}`, m] as const))(
    "%s goes through the wrapper exactly when the protos mark it a write",
    (_name, method) => {
      const handler = impls.get(method.parent)?.[method.localName];
      const write = accessOf(method)?.write === true;
      if (write) expect(handler, "a write with no handler").toBeDefined();
      if (handler !== undefined) expect(isIdempotentWrite(handler)).toBe(write);
    },
  );
});
