import {
  create,
  createRegistry,
  type DescFile,
  type DescMessage,
  fromBinary,
  type JsonValue,
  toJson,
} from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { publicServices } from "../../shared/api.js";
import type { OutgoingDetail } from "../../shared/errors.js";

/** One error detail as JSON: google.protobuf.Any's JSON form, "@type" first. */
export type DetailJson = { "@type": string } & Record<string, unknown>;

/**
 * Every message an error detail can be: the google.rpc error details, our own messages (e.g.
 * tronpay.v1.PayoutBatchItemErrors) and everything they import (well-known types included).
 */
const registry = createRegistry(
  ...withImports([file_google_rpc_error_details, ...publicServices.map((s) => s.file)]),
);

function withImports(files: readonly DescFile[]): DescFile[] {
  const seen = new Set<DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file)) return;
    seen.add(file);
    file.dependencies.forEach(visit);
  };
  files.forEach(visit);
  return [...seen];
}

const TYPE_PREFIX = "type.googleapis.com/";

/**
 * The JSON of each detail of an error, in order, the way google.protobuf.Any is written in
 * JSON: {"@type": "type.googleapis.com/<name>", ...fields}. A detail of a type this edge does
 * not know keeps its bytes, base64, under "value", so nothing core sent is dropped.
 */
export function detailsToJson(details: ConnectError["details"] | OutgoingDetail[]): DetailJson[] {
  return details.map((d) => {
    if ("desc" in d) return messageJson(d.desc, toJson(d.desc, create(d.desc, d.value), opts));
    const desc = registry.getMessage(d.type);
    if (!desc) {
      return { "@type": TYPE_PREFIX + d.type, value: Buffer.from(d.value).toString("base64") };
    }
    return messageJson(desc, toJson(desc, fromBinary(desc, d.value), opts));
  });
}

const opts = { registry } as const;

function messageJson(desc: DescMessage, json: JsonValue): DetailJson {
  const type = TYPE_PREFIX + desc.typeName;
  // Messages with a special JSON form (Duration, wrappers) go under "value", as in Any's JSON.
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return { "@type": type, value: json };
  }
  const out: DetailJson = { "@type": type, ...json };
  // ErrorInfo keeps one shape for clients that read metadata.<key>, even when it is empty.
  if (desc.typeName === "google.rpc.ErrorInfo") out.metadata ??= {};
  return out;
}
