import { type DescEnum, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import { isReflectMessage, type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { AppError } from "../../shared/errors.js";

/**
 * What fromJson lets through but no handler can use: a NUL byte in a string (PostgreSQL text
 * cannot hold one) and an enum number the proto does not declare (proto3 enums are open, so
 * `?states=99` decodes). Checked on the decoded request, so path variables, query parameters
 * and the body are covered by one walk. Throws request.invalid naming the field.
 */
export function checkRequestText(schema: DescMessage, message: Message): void {
  walk(reflect(schema, message), "");
}

function walk(r: ReflectMessage, prefix: string): void {
  for (const field of r.fields) {
    if (!r.isSet(field)) continue;
    const path = prefix + field.name;
    switch (field.fieldKind) {
      case "scalar":
        checkScalar(field.scalar, r.get(field), path);
        break;
      case "enum":
        checkEnum(field.enum, r.get(field), path);
        break;
      case "message":
        walk(r.get(field), `${path}.`);
        break;
      case "list":
        for (const item of r.get(field)) {
          if (field.listKind === "scalar") checkScalar(field.scalar, item, path);
          else if (field.listKind === "enum") checkEnum(field.enum, item, path);
          else if (isReflectMessage(item)) walk(item, `${path}.`);
        }
        break;
      case "map":
        for (const [key, value] of r.get(field)) {
          checkScalar(field.mapKey, key, path);
          if (field.mapKind === "scalar") checkScalar(field.scalar, value, path);
          else if (field.mapKind === "enum") checkEnum(field.enum, value, path);
          else if (isReflectMessage(value)) walk(value, `${path}.`);
        }
        break;
    }
  }
}

function checkScalar(type: ScalarType, value: unknown, path: string): void {
  if (type === ScalarType.STRING && typeof value === "string" && value.includes("\0")) {
    throw new AppError("request.invalid", `${path} contains a NUL byte`, {
      metadata: { field: path },
    });
  }
}

function checkEnum(type: DescEnum, value: unknown, path: string): void {
  if (typeof value === "number" && !type.values.some((v) => v.number === value)) {
    throw new AppError("request.invalid", `${path}: ${value} is not a ${type.name} value`, {
      metadata: { field: path },
    });
  }
}
