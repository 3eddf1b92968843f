import { isAddress } from "../shared/address.js";
import { parsePositiveAmount } from "../shared/money.js";

/** One valid payout row of a batch file. */
export interface BatchRow {
  line: number;
  reference: string;
  walletId: string;
  recipient: { case: "recipientAddress" | "payeeTag"; value: string };
  asset: "USDT" | "TRX";
  amount: string;
  route: "V0" | "KYC" | "DIRECT";
  memo?: string;
}

/** A problem with one line of the file (1-based, the header is line 1). */
export interface BatchRowError {
  line: number;
  message: string;
}

/** Most rows one batch may hold (the API's limit). */
export const MAX_BATCH_ROWS = 1000;

const KNOWN = ["wallet", "to", "payee", "amount", "asset", "route", "reference", "memo"] as const;

/**
 * Validates a whole batch CSV before anything is sent. Header names the columns (any order):
 * to or payee, amount, asset; optional wallet (else `defaultWallet`), route (V0), reference
 * (line-N), memo. Fields hold no commas or quotes. Returns every bad row, not just the first.
 */
export function parseBatchCsv(
  text: string,
  defaultWallet = "",
): { rows: BatchRow[]; errors: BatchRowError[] } {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? "").split(",").map((h) => h.trim().toLowerCase());
  const headerErrors = checkHeader(header, defaultWallet);
  if (headerErrors.length > 0) return { rows: [], errors: headerErrors };
  const rows: BatchRow[] = [];
  const errors: BatchRowError[] = [];
  const seen = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) continue;
    const line = i + 1;
    const result = parseRow(header, raw, line, defaultWallet);
    if ("message" in result) {
      errors.push(result);
      continue;
    }
    const first = seen.get(result.reference);
    if (first !== undefined) {
      errors.push({ line, message: `reference ${result.reference} repeats line ${first}` });
      continue;
    }
    seen.set(result.reference, line);
    rows.push(result);
  }
  if (rows.length + errors.length === 0) errors.push({ line: 1, message: "the file has no rows" });
  if (rows.length + errors.length > MAX_BATCH_ROWS) {
    errors.push({ line: 1, message: `a batch holds at most ${MAX_BATCH_ROWS} rows` });
  }
  return { rows, errors };
}

function checkHeader(header: string[], defaultWallet: string): BatchRowError[] {
  const problems: string[] = [];
  const unknown = header.filter((h) => !(KNOWN as readonly string[]).includes(h));
  if (unknown.length > 0) problems.push(`unknown column(s) ${unknown.join(", ")}`);
  for (const need of ["amount", "asset"]) {
    if (!header.includes(need)) problems.push(`missing column ${need}`);
  }
  if (!header.includes("to") && !header.includes("payee"))
    problems.push("missing column to or payee");
  if (!header.includes("wallet") && defaultWallet === "") {
    problems.push("missing column wallet (or pass --wallet)");
  }
  return problems.map((message) => ({ line: 1, message: `header: ${message}` }));
}

function parseRow(
  header: string[],
  raw: string,
  line: number,
  defaultWallet: string,
): BatchRow | BatchRowError {
  if (raw.includes('"')) return { line, message: "quoted fields are not supported" };
  const cells = raw.split(",").map((c) => c.trim());
  if (cells.length !== header.length) {
    return { line, message: `expected ${header.length} fields, found ${cells.length}` };
  }
  const get = (name: string) => cells[header.indexOf(name)] ?? "";
  const to = header.includes("to") ? get("to") : "";
  const payee = header.includes("payee") ? get("payee") : "";
  if ((to === "") === (payee === "")) return { line, message: "give exactly one of to and payee" };
  if (to !== "" && !isAddress(to)) return { line, message: `to: ${to} is not a TRON address` };
  const asset = get("asset").toUpperCase();
  if (asset !== "USDT" && asset !== "TRX") return { line, message: "asset must be USDT or TRX" };
  const amount = get("amount");
  try {
    parsePositiveAmount(amount);
  } catch {
    return {
      line,
      message: `amount: ${amount || "(empty)"} is not a positive amount (≤ 6 decimals)`,
    };
  }
  const route = (get("route") || "V0").toUpperCase();
  if (route !== "V0" && route !== "KYC" && route !== "DIRECT") {
    return { line, message: "route must be V0, KYC or DIRECT" };
  }
  const walletId = get("wallet") || defaultWallet;
  if (walletId === "") return { line, message: "wallet is empty and no --wallet was given" };
  const memo = get("memo");
  return {
    line,
    reference: get("reference") || `line-${line}`,
    walletId,
    recipient:
      to !== "" ? { case: "recipientAddress", value: to } : { case: "payeeTag", value: payee },
    asset,
    amount,
    route,
    ...(memo !== "" ? { memo } : {}),
  };
}
