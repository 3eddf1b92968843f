import { z } from "zod";
import { WebhookEventType } from "../../gen/tronpay/v1/webhook_pb.js";
import { EVENT_TYPES, type EventType, eventSpec } from "./catalog.js";
import { labelOf, StateChange } from "./fields.js";

/** Renders docs/events.md from the catalog; `npm run check` keeps the committed file current. */
export function renderEventDocs(): string {
  const subscribable = EVENT_TYPES.filter((t) => eventSpec(t).webhook !== null);
  const internal = EVENT_TYPES.filter((t) => eventSpec(t).webhook === null);
  const lines = [
    "# Events",
    "",
    "Generated from `src/core/events/catalog.ts` by `npm run gen:docs`; do not edit by hand.",
    "",
    "Every change worth telling is written to the outbox in the transaction that makes it. A",
    "webhook endpoint subscribes to the types below that have a `WebhookEventType`; each delivery",
    "is a POST whose JSON body is `{id, type, timestamp, data}`: the event id (the same on every",
    "attempt), the type, when it was written (ISO 8601) and the payload described here.",
    "",
    'Amounts are decimal strings in whole TRX or USDT (`"12.5"`, `"0.000001"`), exactly as the',
    "API writes them; integers that JSON numbers cannot hold (block numbers, energy) are",
    "integer strings. A field marked optional is absent when it does not apply.",
    "",
    "## State changes",
    "",
    "Every `payout.<state>` and `operation.<state>` event carries this payload (a USDT transfer",
    "is a payout; other operations are `operation.*`):",
    "",
    ...fieldTable(StateChange),
    "## Subscribable",
    "",
    ...subscribable.flatMap(section),
    "## Internal",
    "",
    "Written to the outbox (and kept with it) but never delivered to webhooks.",
    "",
    ...internal.flatMap(section),
  ];
  return `${lines.join("\n").trimEnd()}\n`;
}

function section(type: EventType): string[] {
  const spec = eventSpec(type);
  const head =
    spec.webhook === null ? "" : ` (\`WEBHOOK_EVENT_TYPE_${WebhookEventType[spec.webhook]}\`)`;
  const out = [`### \`${type}\`${head}`, "", spec.doc, ""];
  if (spec.payload === StateChange)
    return [...out, "Payload: a [state change](#state-changes).", ""];
  return [...out, ...fieldTable(spec.payload)];
}

function fieldTable(schema: z.ZodTypeAny): string[] {
  const shape = (schema as z.AnyZodObject).shape as Record<string, z.ZodTypeAny>;
  const out = ["| field | type | meaning |", "| --- | --- | --- |"];
  for (const [name, field] of Object.entries(shape)) {
    out.push(`| \`${name}\` | ${typeText(field)} | ${descriptionOf(field) ?? ""} |`);
  }
  out.push("");
  return out;
}

/** The description on a field or on what it wraps. */
function descriptionOf(schema: z.ZodTypeAny): string | undefined {
  if (schema.description !== undefined) return schema.description;
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable)
    return descriptionOf(schema.unwrap());
  return undefined;
}

function typeText(schema: z.ZodTypeAny): string {
  if (schema instanceof z.ZodOptional) return `${typeText(schema.unwrap())}, optional`;
  if (schema instanceof z.ZodNullable) return `${typeText(schema.unwrap())} or null`;
  const label = labelOf(schema);
  if (label !== undefined) return label;
  if (schema instanceof z.ZodEnum)
    return (schema.options as string[]).map((o) => `\`${o}\``).join(" \\| ");
  if (schema instanceof z.ZodLiteral) return `\`${JSON.stringify(schema.value)}\``;
  if (schema instanceof z.ZodArray) return `array of ${typeText(schema.element)}`;
  if (schema instanceof z.ZodRecord) return "object";
  if (schema instanceof z.ZodObject) return "object";
  if (schema instanceof z.ZodNumber) return "integer";
  if (schema instanceof z.ZodString) return "string";
  if (schema instanceof z.ZodBoolean) return "boolean";
  throw new Error(`docs/events.md cannot describe a ${schema._def.typeName} field`);
}
