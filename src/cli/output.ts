import type { Command } from "commander";
import type { ConnectionOptions } from "./client.js";

/** Options of every command that talks to core. */
export interface ApiOptions extends ConnectionOptions {
  json?: boolean;
}

/** Adds --url, --key and --json to a command that talks to core. */
export function apiOptions(cmd: Command): Command {
  return cmd
    .option("--url <url>", "core's Connect URL (default: TRONPAY_URL or .data/launcher.json)")
    .option("--key <key>", "API key (default: TRONPAY_API_KEY)")
    .option("--json", "print JSON for scripts instead of tables", false);
}

/** A plain-text table: one header row, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** JSON text for scripts; bigints as decimal strings (JSON has no 64-bit integers). */
export function json(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}

/** Writes to stdout. */
export function print(text: string): void {
  process.stdout.write(text);
}

/** An enum member's name without its prefix: PayoutState.CONFIRMED → "CONFIRMED". */
export function enumName(e: Record<number, string>, value: number): string {
  return e[value] ?? String(value);
}

/** Looks an enum value up by its short name, case-insensitively; undefined if unknown. */
export function enumValue<E extends Record<string, string | number>>(
  e: E,
  name: string,
): number | undefined {
  const key = Object.keys(e).find((k) => k.toLowerCase() === name.trim().toLowerCase());
  const value = key === undefined ? undefined : e[key];
  return typeof value === "number" && value !== 0 ? value : undefined;
}
