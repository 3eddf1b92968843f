import { readFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import type { Role } from "../../gen/tronpay/v1/options_pb.js";
import type { Authenticated } from "../../shared/access-gate.js";
import { AppError } from "../../shared/errors.js";
import { parseRoleName } from "./roles.js";

/**
 * Internal services may authenticate to core with a TLS client certificate instead of an API
 * key (mTLS). Core serves TLS when given a certificate and key; with a client CA it asks every
 * client for a certificate but does not require one (API keys and tokens keep working). A
 * certificate the client CA verifies, whose subject CN is listed in TRONPAY_CORE_MTLS_PRINCIPALS
 * ("name=role|role", comma-separated), makes the call that name's principal ("cert:<name>")
 * with those roles, when the call presents no other credential. A presented API key or token
 * always wins: a proxy holding a certificate (the edge) still calls as its client.
 */

/** The TLS material of core's listener, read from files. */
export interface CoreTls {
  cert: Buffer;
  key: Buffer;
  /** The CA that client certificates must chain to; undefined: no client certificates. */
  ca: Buffer | undefined;
}

/** Reads the listener's TLS files; undefined when no certificate is configured. */
export function loadCoreTls(files: {
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsClientCaFile: string;
  mtlsPrincipals: readonly string[];
}): CoreTls | undefined {
  const { tlsCertFile, tlsKeyFile, tlsClientCaFile } = files;
  if (files.mtlsPrincipals.length > 0 && tlsClientCaFile === "") {
    throw configInvalid("TRONPAY_CORE_MTLS_PRINCIPALS needs TRONPAY_CORE_TLS_CLIENT_CA");
  }
  if (tlsCertFile === "" && tlsKeyFile === "") {
    if (tlsClientCaFile !== "")
      throw configInvalid("a client CA needs TRONPAY_CORE_TLS_CERT and _KEY");
    return undefined;
  }
  if (tlsCertFile === "" || tlsKeyFile === "") {
    throw configInvalid("TRONPAY_CORE_TLS_CERT and TRONPAY_CORE_TLS_KEY go together");
  }
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw configInvalid(`cannot read the TLS ${what} file: ${(err as Error).message}`);
    }
  };
  return {
    cert: read(tlsCertFile, "certificate"),
    key: read(tlsKeyFile, "key"),
    ca: tlsClientCaFile === "" ? undefined : read(tlsClientCaFile, "client CA"),
  };
}

/** Parses "name=role|role" entries; throws config.invalid naming the bad entry. */
export function parseCertPrincipals(entries: readonly string[]): ReadonlyMap<string, Role[]> {
  const map = new Map<string, Role[]>();
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const name = entry.slice(0, eq).trim();
    const roles = entry
      .slice(eq + 1)
      .split("|")
      .map((r) => parseRoleName(r.trim()));
    if (eq <= 0 || roles.length === 0 || roles.some((r) => r === undefined) || map.has(name)) {
      throw configInvalid(
        `TRONPAY_CORE_MTLS_PRINCIPALS entry "${entry.slice(0, 80)}" is not name=role|role`,
      );
    }
    map.set(
      name,
      [...new Set(roles as Role[])].sort((a, b) => a - b),
    );
  }
  return map;
}

/**
 * The principal a verified client certificate stands for; undefined when the connection is
 * not TLS, the certificate is missing or not verified by the client CA, or its CN is not listed.
 */
export function certifiedPrincipal(
  socket: unknown,
  principals: ReadonlyMap<string, Role[]>,
): Authenticated | undefined {
  if (principals.size === 0) return undefined;
  const tls = socket as Partial<TLSSocket> | undefined;
  if (tls?.encrypted !== true || tls.authorized !== true || !tls.getPeerCertificate)
    return undefined;
  const cn = tls.getPeerCertificate().subject?.CN;
  const name = Array.isArray(cn) ? undefined : cn;
  const roles = name === undefined ? undefined : principals.get(name);
  if (name === undefined || roles === undefined) return undefined;
  return {
    principal: { id: `cert:${name}`, roles },
    credential: { kind: "client_cert", apiKeyId: "" },
  };
}

function configInvalid(message: string): AppError {
  return new AppError("config.invalid", message);
}
