import { type DescEnum, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type Schema = Record<string, unknown>;

/** Well-known types whose proto3 JSON form is not an object of their fields. */
const WELL_KNOWN: Record<string, Schema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" },
  "google.protobuf.FieldMask": { type: "string" },
  "google.protobuf.Struct": { type: "object", additionalProperties: true },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array", items: {} },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Any": {
    type: "object",
    properties: { "@type": { type: "string" } },
    required: ["@type"],
    additionalProperties: true,
  },
  "google.protobuf.StringValue": { type: ["string", "null"] },
  "google.protobuf.BoolValue": { type: ["boolean", "null"] },
  "google.protobuf.BytesValue": { type: ["string", "null"], contentEncoding: "base64" },
  "google.protobuf.Int32Value": { type: ["integer", "null"], format: "int32" },
  "google.protobuf.UInt32Value": { type: ["integer", "null"], format: "int32", minimum: 0 },
  "google.protobuf.Int64Value": { type: ["string", "null"], format: "int64" },
  "google.protobuf.UInt64Value": { type: ["string", "null"], format: "int64" },
  "google.protobuf.FloatValue": { type: ["number", "null"], format: "float" },
  "google.protobuf.DoubleValue": { type: ["number", "null"], format: "double" },
};

/**
 * Collects component schemas for messages and enums as they are referenced, so the document
 * holds exactly the types its operations reach.
 */
export class SchemaRegistry {
  readonly components: Record<string, Schema> = {};

  /** A reference to a message's schema, adding it (and what it reaches) on first use. */
  messageRef(message: DescMessage): Schema {
    const known = WELL_KNOWN[message.typeName];
    if (known) return { ...known };
    if (!(message.typeName in this.components)) {
      this.components[message.typeName] = {}; // placeholder: recursive types end here
      this.components[message.typeName] = this.messageSchema(message, new Set());
    }
    return { $ref: `#/components/schemas/${message.typeName}` };
  }

  /** An object schema of a message's fields, leaving out the named top-level fields. */
  messageSchema(message: DescMessage, omit: ReadonlySet<string>): Schema {
    const properties: Record<string, Schema> = {};
    for (const field of message.fields) {
      if (!omit.has(field.name)) properties[field.jsonName] = this.fieldSchema(field);
    }
    const schema: Schema = { type: "object", properties, additionalProperties: false };
    const exclusive = oneofRules(message, omit);
    if (exclusive.length > 0) schema.allOf = exclusive;
    return schema;
  }

  /** The schema of one field's JSON value. */
  fieldSchema(field: DescField): Schema {
    switch (field.fieldKind) {
      case "scalar":
        return scalarSchema(field.scalar);
      case "enum":
        return this.enumRef(field.enum);
      case "message":
        return this.messageRef(field.message);
      case "list":
        return { type: "array", items: this.elementSchema(field) };
      case "map":
        return { type: "object", additionalProperties: this.mapValueSchema(field) };
    }
  }

  private elementSchema(field: DescField & { fieldKind: "list" }): Schema {
    if (field.listKind === "scalar") return scalarSchema(field.scalar);
    if (field.listKind === "enum") return this.enumRef(field.enum);
    return this.messageRef(field.message);
  }

  private mapValueSchema(field: DescField & { fieldKind: "map" }): Schema {
    if (field.mapKind === "scalar") return scalarSchema(field.scalar);
    if (field.mapKind === "enum") return this.enumRef(field.enum);
    return this.messageRef(field.message);
  }

  /** Enums are strings of their value names, as protobuf-es writes them. */
  enumRef(desc: DescEnum): Schema {
    if (!(desc.typeName in this.components)) {
      this.components[desc.typeName] = {
        type: "string",
        enum: desc.values.map((v) => v.name),
      };
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }
}

/** JSON Schema of a proto3 scalar's JSON form: 64-bit integers are strings. */
export function scalarSchema(type: ScalarType): Schema {
  switch (type) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "int64", minimum: 0, maximum: 4294967295 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64", pattern: "^[0-9]+$" };
  }
}

/** "At most one of" each oneof's members, as JSON Schema: no two may be present together. */
function oneofRules(message: DescMessage, omit: ReadonlySet<string>): Schema[] {
  const rules: Schema[] = [];
  for (const oneof of message.oneofs) {
    const names = oneof.fields.filter((f) => !omit.has(f.name)).map((f) => f.jsonName);
    const pairs: Schema[] = [];
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) pairs.push({ required: [names[i], names[j]] });
    }
    if (pairs.length > 0) {
      rules.push({
        description: `at most one of ${names.join(", ")} (oneof ${oneof.name})`,
        not: { anyOf: pairs },
      });
    }
  }
  return rules;
}
