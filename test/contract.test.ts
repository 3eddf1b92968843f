import { ScalarType } from "@bufbuild/protobuf";
import { createConnectRouter } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { type RouteDeps, registerRoutes } from "../src/core/app/routes.js";
import { SignerService } from "../src/gen/tronpay/signer/v1/signer_pb.js";
import { Role } from "../src/gen/tronpay/v1/options_pb.js";
import { accessOf, httpRuleOf, publicServices, rolesOf } from "../src/shared/api.js";

const methods = publicServices.flatMap((s) => s.methods);

describe("the public contract", () => {
  it("has the nine public services with their RPCs", () => {
    expect(publicServices.map((s) => s.typeName)).toEqual([
      "tronpay.v1.PayoutService",
      "tronpay.v1.PayeeService",
      "tronpay.v1.WalletService",
      "tronpay.v1.UsdtService",
      "tronpay.v1.StakingService",
      "tronpay.v1.OperationService",
      "tronpay.v1.NetworkService",
      "tronpay.v1.WebhookService",
      "tronpay.v1.AdminService",
    ]);
    expect(methods.length).toBeGreaterThan(60);
  });

  it.each(methods.map((m) => [`${m.parent.name}.${m.name}`, m] as const))(
    "%s has an HTTP rule under /v1/ and an access option with roles",
    (_name, method) => {
      const rule = httpRuleOf(method);
      expect(rule?.pattern.case).toBeDefined();
      expect(String(rule?.pattern.value)).toMatch(/^\/v1\//);
      const access = accessOf(method);
      expect(access).toBeDefined();
      expect(access?.roles.length).toBeGreaterThan(0);
      expect(rolesOf(method)).toContain(Role.ADMIN);
    },
  );

  it("makes every write take an idempotency key as field 1, and no read take one", () => {
    for (const method of methods) {
      const field = method.input.fields.find((f) => f.name === "idempotency_key");
      if (accessOf(method)?.write) {
        expect(field?.number, `${method.name}`).toBe(1);
        expect(field?.scalar, `${method.name}`).toBe(ScalarType.STRING);
      } else {
        expect(field, `${method.name}`).toBeUndefined();
      }
    }
  });

  it("never carries money as a float or double", () => {
    const seen = new Set<string>();
    const visit = (fields: (typeof methods)[number]["input"]["fields"]) => {
      for (const f of fields) {
        expect(
          [ScalarType.FLOAT, ScalarType.DOUBLE],
          `${f.parent.typeName}.${f.name}`,
        ).not.toContain(f.scalar);
        if (f.message && !seen.has(f.message.typeName)) {
          seen.add(f.message.typeName);
          visit(f.message.fields);
        }
      }
    };
    for (const m of methods) {
      visit(m.input.fields);
      visit(m.output.fields);
    }
    expect(seen.size).toBeGreaterThan(10);
  });

  it("is all core serves besides gRPC's own health and reflection services, which are not our API", () => {
    const router = createConnectRouter();
    // Handler factories only keep their deps: registering needs none of them.
    registerRoutes({} as RouteDeps)(router);
    const served = [...new Set(router.handlers.map((h) => h.service))];
    const ours = served.filter((s) => publicServices.includes(s));
    expect(ours.map((s) => s.typeName).sort()).toEqual(
      publicServices.map((s) => s.typeName).sort(),
    );
    const standard = served.filter((s) => !publicServices.includes(s));
    expect(standard.map((s) => s.typeName).sort()).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
    for (const method of standard.flatMap((s) => s.methods)) {
      expect(method.parent.file.proto.package, method.name).toMatch(/^grpc\.(health|reflection)\./);
      expect(httpRuleOf(method), method.name).toBeUndefined();
      expect(accessOf(method), method.name).toBeUndefined();
    }
  });

  it("keeps the signer's API internal: no HTTP rules, no access options", () => {
    for (const method of SignerService.methods) {
      expect(httpRuleOf(method)).toBeUndefined();
      expect(accessOf(method)).toBeUndefined();
    }
  });
});
