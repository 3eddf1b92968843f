import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import type { ChainData } from "./chain.js";

/**
 * Saving and loading the devnet: the chain and both states as one JSON file (bigints and
 * maps tagged), written atomically; and the genesis key, generated once into the data dir.
 */

const FORMAT = 1;

/** Writes the chain to `file` atomically (tmp + rename). */
export function saveChain(file: string, data: ChainData): void {
  mkdirSync(dirname(file), { recursive: true });
  const body = JSON.stringify({ format: FORMAT, data }, (_k, v: unknown) => {
    if (typeof v === "bigint") return { $n: v.toString() };
    if (v instanceof Map) return { $map: [...v] };
    return v;
  });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, body, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Reads a chain saved by saveChain; undefined when the file does not exist. */
export function loadChain(file: string): ChainData | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, "utf8"), (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$n === "string") return BigInt(o.$n);
      if (Array.isArray(o.$map)) return new Map(o.$map as [unknown, unknown][]);
    }
    return v;
  }) as { format: number; data: ChainData };
  if (parsed.format !== FORMAT) throw new Error(`unsupported devnet state format ${parsed.format}`);
  const data = parsed.data;
  // Pooled records must be the same objects as in the index, so inclusion stamps both.
  data.pool = data.pool.map((e) => {
    const tx = e.tx ? data.txs.get(e.tx.txId) : undefined;
    return tx ? { tx, writes: e.writes } : { writes: e.writes };
  });
  return data;
}

/** Where the genesis key came from. */
export interface GenesisKey {
  readonly privateKey: Uint8Array;
  /** The 0600 file holding it; undefined when it came from the config/env. */
  readonly file?: string;
}

/**
 * The genesis private key: from the config when given, else read from `dataDir/genesis.key`,
 * else generated there with mode 0600. The key is never logged.
 */
export function loadOrCreateGenesisKey(dataDir: string, fromConfig?: string): GenesisKey {
  if (fromConfig) return { privateKey: hex.decode(fromConfig.toLowerCase()) };
  const file = join(dataDir, "genesis.key");
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8").trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${file} does not hold a 64-hex key`);
    return { privateKey: hex.decode(text), file };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = secp256k1.utils.randomSecretKey();
  writeFileSync(file, `${hex.encode(key)}\n`, { mode: 0o600, flag: "wx" });
  return { privateKey: key, file };
}
