import { describe, expect, it } from "vitest";
import { Role } from "../../gen/tronpay/v1/options_pb.js";
import { AppError } from "../../shared/errors.js";
import { certifiedPrincipal, loadCoreTls, parseCertPrincipals } from "./client-cert.js";

const reasonOf = (f: () => unknown) => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.reason : String(err);
  }
};

describe("client certificate principals", () => {
  it("parses name=role|role entries, roles as people type them", () => {
    const map = parseCertPrincipals(["payments=service|AUDITOR", "ops = ROLE_OPERATOR"]);
    expect(map.get("payments")).toEqual([Role.AUDITOR, Role.SERVICE]);
    expect(map.get("ops")).toEqual([Role.OPERATOR]);
  });

  it("refuses entries without a name, with unknown roles, or repeated", () => {
    for (const bad of [["=service"], ["payments"], ["payments=root"], ["a=service", "a=auditor"]]) {
      expect(reasonOf(() => parseCertPrincipals(bad))).toBe("config.invalid");
    }
  });

  it("needs TLS files in pairs, and a client CA for principals", () => {
    const none = { tlsCertFile: "", tlsKeyFile: "", tlsClientCaFile: "", mtlsPrincipals: [] };
    expect(loadCoreTls(none)).toBeUndefined();
    expect(reasonOf(() => loadCoreTls({ ...none, tlsCertFile: "/x.pem" }))).toBe("config.invalid");
    expect(reasonOf(() => loadCoreTls({ ...none, tlsClientCaFile: "/ca.pem" }))).toBe(
      "config.invalid",
    );
    expect(reasonOf(() => loadCoreTls({ ...none, mtlsPrincipals: ["a=service"] }))).toBe(
      "config.invalid",
    );
  });

  it("takes only a verified certificate with a listed name", () => {
    const map = parseCertPrincipals(["payments=service"]);
    const socket = (authorized: boolean, cn: string) => ({
      encrypted: true,
      authorized,
      getPeerCertificate: () => ({ subject: { CN: cn } }),
    });
    expect(certifiedPrincipal(socket(true, "payments"), map)?.principal.id).toBe("cert:payments");
    expect(certifiedPrincipal(socket(false, "payments"), map)).toBeUndefined();
    expect(certifiedPrincipal(socket(true, "other"), map)).toBeUndefined();
    expect(certifiedPrincipal({ remoteAddress: "127.0.0.1" }, map)).toBeUndefined();
  });
});
