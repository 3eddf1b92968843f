import { readFileSync } from "node:fs";
import { z } from "zod";
import { AppError } from "./errors.js";

/** Where one config key may come from, besides its default in the schema. */
export interface FieldSource {
  /** Environment variable name, e.g. DATABASE_URL. */
  env?: string;
  /** Command-line flag name without dashes, e.g. "port" for --port. */
  flag?: string;
  /** Printed as "[redacted]" by describeConfig. */
  secret?: boolean;
}

/** The inputs of one load: parsed flags, the environment and an optional JSON file. */
export interface ConfigInputs {
  flags?: Readonly<Record<string, string | undefined>>;
  env?: Readonly<Record<string, string | undefined>>;
  /** A JSON file whose keys are the schema's keys. */
  file?: string;
}

/** A process's config definition: a zod object schema plus where each key may come from. */
export interface ConfigSpec<S extends z.AnyZodObject> {
  schema: S;
  sources: { readonly [K in keyof z.infer<S>]?: FieldSource };
}

/**
 * Loads one typed config: schema defaults < file < env < flags, validated with zod and frozen.
 * Throws AppError `config.invalid` naming every bad key (never its value, which may be secret).
 */
export function loadConfig<S extends z.AnyZodObject>(
  spec: ConfigSpec<S>,
  inputs: ConfigInputs = {},
): Readonly<z.infer<S>> {
  const merged: Record<string, unknown> = { ...readConfigFile(inputs.file) };
  const sources = spec.sources as Record<string, FieldSource | undefined>;
  for (const [key, source] of Object.entries(sources)) {
    const fromEnv = source?.env ? inputs.env?.[source.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== "") merged[key] = fromEnv;
    const fromFlag = source?.flag ? inputs.flags?.[source.flag] : undefined;
    if (fromFlag !== undefined) merged[key] = fromFlag;
  }
  const parsed = spec.schema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join(".") || "(root)"}: ${i.message}`,
    );
    throw new AppError("config.invalid", `invalid configuration: ${problems.join("; ")}`);
  }
  return deepFreeze(parsed.data) as Readonly<z.infer<S>>;
}

/** The config as a plain object for a startup log line, with secret keys redacted. */
export function describeConfig<S extends z.AnyZodObject>(
  spec: ConfigSpec<S>,
  config: Readonly<z.infer<S>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const sources = spec.sources as Record<string, FieldSource | undefined>;
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    out[key] = sources[key]?.secret && value !== undefined && value !== "" ? "[redacted]" : value;
  }
  return out;
}

/** Parses `--name value` and `--name=value` flags; a bare `--name` means "true". */
export function parseFlags(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) continue;
    const eq = arg.indexOf("=");
    if (eq > 0) {
      flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("--")) {
        flags[arg.slice(2)] = next;
        i++;
      } else {
        flags[arg.slice(2)] = "true";
      }
    }
  }
  return flags;
}

/** Zod helpers shared by the processes' schemas: env and flags arrive as strings. */
export const zc = {
  port: () => z.coerce.number().int().min(0).max(65535),
  positiveInt: () => z.coerce.number().int().positive(),
  nonNegativeInt: () => z.coerce.number().int().min(0),
  bool: () =>
    z.union([
      z.boolean(),
      z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1"),
    ]),
  url: () => z.string().url(),
  /** A key given as text: empty (off) or at least `min` characters. */
  optionalKey: (min: number) =>
    z
      .string()
      .refine((v) => v === "" || v.length >= min, `must be empty or at least ${min} characters`),
  list: () =>
    z.union([
      z.array(z.string()),
      z.string().transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      ),
    ]),
};

function readConfigFile(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new AppError("config.invalid", "config file cannot be read", { cause });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw new Error("not an object");
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new AppError("config.invalid", "config file is not a JSON object", { cause });
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as Record<string, unknown>)) deepFreeze(inner);
  }
  return value;
}
