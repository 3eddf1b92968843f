import {
  createRegistry,
  type DescFile,
  type DescService,
  type Registry,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";

/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha, the same messages in two packages)
 * answered from the descriptors embedded in the generated code: no .proto files at run time.
 * Written here because no maintained package implements it for connect-es (connect-es#507).
 */

/** A reflection request's question, as both versions spell it. */
export type ReflectionQuestion =
  | { case: "fileByFilename"; value: string }
  | { case: "fileContainingSymbol"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: "allExtensionNumbersOfType"; value: string }
  | { case: "listServices"; value: string }
  | { case: undefined; value?: undefined };

/** The answer, as both versions spell it (message init shapes, without $typeName). */
export type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | {
      case: "allExtensionNumbersResponse";
      value: { baseTypeName: string; extensionNumber: number[] };
    }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/** Answers reflection questions about a fixed set of services. */
export interface Reflector {
  /**
   * Answers one question. `sent` holds the files already sent on this stream: a file answer
   * carries the file asked for and those of its transitive dependencies not sent yet.
   */
  answer(question: ReflectionQuestion, sent: Set<string>): ReflectionAnswer;
}

/** A reflector for `services` and every file they depend on. */
export function createReflector(services: readonly DescService[]): Reflector {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const dep of file.dependencies) visit(dep);
  };
  for (const service of services) visit(service.file);
  const registry = createRegistry(...files.values());
  const names = [...new Set(services.map((s) => s.typeName))].sort();
  const encoded = new Map<string, Uint8Array>();
  const bytesOf = (file: DescFile) => {
    let bytes = encoded.get(file.proto.name);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      encoded.set(file.proto.name, bytes);
    }
    return bytes;
  };

  const fileAnswer = (file: DescFile, sent: Set<string>): ReflectionAnswer => {
    const out: Uint8Array[] = [bytesOf(file)];
    sent.add(file.proto.name);
    // A file sent before went out with its own dependencies.
    const addDependencies = (f: DescFile) => {
      for (const dep of f.dependencies) {
        if (sent.has(dep.proto.name)) continue;
        sent.add(dep.proto.name);
        out.push(bytesOf(dep));
        addDependencies(dep);
      }
    };
    addDependencies(file);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
  };

  return {
    answer(question, sent) {
      switch (question.case) {
        case "listServices":
          return {
            case: "listServicesResponse",
            value: { service: names.map((name) => ({ name })) },
          };
        case "fileByFilename": {
          const file = files.get(question.value);
          return file ? fileAnswer(file, sent) : notFound(`no file ${question.value}`);
        }
        case "fileContainingSymbol": {
          const file = fileOfSymbol(registry, question.value);
          return file ? fileAnswer(file, sent) : notFound(`no symbol ${question.value}`);
        }
        case "fileContainingExtension": {
          const { containingType, extensionNumber } = question.value;
          const message = registry.getMessage(containingType);
          const extension = message && registry.getExtensionFor(message, extensionNumber);
          return extension
            ? fileAnswer(extension.file, sent)
            : notFound(`no extension ${extensionNumber} of ${containingType}`);
        }
        case "allExtensionNumbersOfType": {
          const name = question.value;
          if (!registry.getMessage(name)) return notFound(`no message ${name}`);
          const numbers: number[] = [];
          for (const type of registry) {
            if (type.kind === "extension" && type.extendee.typeName === name) {
              numbers.push(type.number);
            }
          }
          return {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: name, extensionNumber: numbers.sort((a, b) => a - b) },
          };
        }
        default:
          return {
            case: "errorResponse",
            value: { errorCode: Code.InvalidArgument, errorMessage: "no question asked" },
          };
      }
    },
  };
}

/** The file that declares a type, a method, a field or an enum value by its full name. */
function fileOfSymbol(registry: Registry, symbol: string): DescFile | undefined {
  const name = symbol.startsWith(".") ? symbol.slice(1) : symbol;
  const type = registry.get(name);
  if (type) return type.file;
  const dot = name.lastIndexOf(".");
  if (dot < 0) return undefined;
  const parent = name.slice(0, dot);
  const member = name.slice(dot + 1);
  const service = registry.getService(parent);
  if (service) return service.methods.some((m) => m.name === member) ? service.file : undefined;
  const message = registry.getMessage(parent);
  if (message && [...message.fields, ...message.oneofs].some((f) => f.name === member)) {
    return message.file;
  }
  // Enum values are scoped like siblings of their enum: pkg.Enum's VALUE is pkg.VALUE.
  for (const type of registry) {
    if (type.kind !== "enum") continue;
    const scope = type.typeName.slice(0, Math.max(0, type.typeName.lastIndexOf(".")));
    if (scope === parent && type.values.some((v) => v.name === member)) return type.file;
  }
  return undefined;
}

function notFound(message: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: message } };
}
