import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { http } from "../../gen/google/api/annotations_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { access } from "../../gen/tronpay/v1/options_pb.js";
import { PayoutService } from "../../gen/tronpay/v1/payout_pb.js";
import { publicServices } from "../../shared/api.js";
import { createReflector, type ReflectionAnswer } from "./reflector.js";

const reflector = createReflector([...publicServices, Health]);

function files(answer: ReflectionAnswer): FileDescriptorProto[] {
  if (answer.case !== "fileDescriptorResponse") throw new Error(`answered ${answer.case}`);
  return answer.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

/** The files in an order a registry can load them: every file after its imports. */
function dependenciesFirst(protos: FileDescriptorProto[]): FileDescriptorProto[] {
  const byName = new Map(protos.map((p) => [p.name, p]));
  const out: FileDescriptorProto[] = [];
  const visit = (p: FileDescriptorProto) => {
    if (out.includes(p)) return;
    for (const name of p.dependency) {
      const dep = byName.get(name);
      if (!dep) throw new Error(`${p.name} imports ${name}, which was not sent`);
      visit(dep);
    }
    out.push(p);
  };
  for (const p of protos) visit(p);
  return out;
}

describe("server reflection", () => {
  it("lists the services it was given, sorted", () => {
    const answer = reflector.answer({ case: "listServices", value: "" }, new Set());
    expect(answer).toEqual({
      case: "listServicesResponse",
      value: {
        service: [...publicServices, Health]
          .map((s) => ({ name: s.typeName }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      },
    });
  });

  it("answers a service's file with every dependency, enough to rebuild the service", () => {
    const sent = new Set<string>();
    const protos = files(
      reflector.answer({ case: "fileContainingSymbol", value: PayoutService.typeName }, sent),
    );
    expect(protos[0]?.name).toBe("tronpay/v1/payout.proto");
    const names = protos.map((p) => p.name);
    expect(names).toContain("google/api/annotations.proto");
    expect(names).toContain("google/protobuf/descriptor.proto");
    expect(new Set(names).size).toBe(names.length);
    // A client holding only these bytes knows the service, its methods and their options.
    const registry = createFileRegistry(
      create(FileDescriptorSetSchema, { file: dependenciesFirst(protos) }),
    );
    const rebuilt = registry.getService(PayoutService.typeName);
    expect(rebuilt?.methods.map((m) => m.name)).toEqual(PayoutService.methods.map((m) => m.name));
    expect(registry.getMessage("tronpay.v1.CreatePayoutRequest")?.fields.length).toBe(
      PayoutService.method.createPayout.input.fields.length,
    );
    expect(registry.getExtension(access.typeName)).toBeDefined();
  });

  it("sends a file once per stream: later answers carry only what was not sent", () => {
    const sent = new Set<string>();
    const first = files(
      reflector.answer({ case: "fileContainingSymbol", value: PayoutService.typeName }, sent),
    );
    const again = files(
      reflector.answer({ case: "fileByFilename", value: "tronpay/v1/payout.proto" }, sent),
    );
    expect(again.map((p) => p.name)).toEqual(["tronpay/v1/payout.proto"]);
    const other = files(
      reflector.answer({ case: "fileByFilename", value: "tronpay/v1/admin.proto" }, sent),
    );
    expect(other[0]?.name).toBe("tronpay/v1/admin.proto");
    for (const p of other.slice(1)) expect(first.map((f) => f.name)).not.toContain(p.name);
  });

  it("finds the file of a method, a field and an enum value", () => {
    const fileOf = (symbol: string) =>
      files(reflector.answer({ case: "fileContainingSymbol", value: symbol }, new Set()))[0]?.name;
    expect(fileOf("tronpay.v1.PayoutService.CreatePayout")).toBe("tronpay/v1/payout.proto");
    expect(fileOf("tronpay.v1.CreatePayoutRequest.idempotency_key")).toBe(
      "tronpay/v1/payout.proto",
    );
    expect(fileOf("grpc.health.v1.HealthCheckResponse.SERVING")).toBe("health/v1/health.proto");
  });

  it("finds extensions by number and lists the numbers extending a message", () => {
    const byNumber = files(
      reflector.answer(
        {
          case: "fileContainingExtension",
          value: { containingType: "google.protobuf.MethodOptions", extensionNumber: http.number },
        },
        new Set(),
      ),
    );
    expect(byNumber[0]?.name).toBe("google/api/annotations.proto");
    const numbers = reflector.answer(
      { case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" },
      new Set(),
    );
    expect(numbers.case).toBe("allExtensionNumbersResponse");
    if (numbers.case !== "allExtensionNumbersResponse") return;
    expect(numbers.value.baseTypeName).toBe("google.protobuf.MethodOptions");
    expect(numbers.value.extensionNumber).toEqual(
      expect.arrayContaining([http.number, access.number]),
    );
  });

  it("answers NOT_FOUND for what it does not have, and INVALID_ARGUMENT for no question", () => {
    for (const question of [
      { case: "fileByFilename", value: "nope.proto" },
      { case: "fileContainingSymbol", value: "tronpay.v1.NoSuchThing" },
      { case: "fileContainingSymbol", value: "tronpay.v1.PayoutService.NoSuchMethod" },
      {
        case: "fileContainingExtension",
        value: { containingType: "google.protobuf.MethodOptions", extensionNumber: 1 },
      },
      { case: "allExtensionNumbersOfType", value: "tronpay.v1.Nope" },
    ] as const) {
      const answer = reflector.answer(question, new Set());
      expect(answer.case, question.value.toString()).toBe("errorResponse");
      if (answer.case === "errorResponse") expect(answer.value.errorCode).toBe(Code.NotFound);
    }
    const none = reflector.answer({ case: undefined }, new Set());
    expect(none.case === "errorResponse" && none.value.errorCode).toBe(Code.InvalidArgument);
  });
});
