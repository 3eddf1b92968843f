import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEdge } from "../../src/edge/main.js";
import { AdminService, CredentialKind } from "../../src/gen/tronpay/v1/admin_pb.js";
import { Role } from "../../src/gen/tronpay/v1/options_pb.js";
import { reasonOf } from "../../src/shared/errors.js";
import { createLogger } from "../../src/shared/log.js";
import { type Stack, startStack } from "../helpers/stack.js";

/**
 * Internal services authenticating with TLS client certificates (mTLS) against the real core
 * process: a CA, core's server certificate and client certificates are made with openssl at
 * test time in a temporary directory (nothing stored in the repository).
 */

const dir = mkdtempSync(join(tmpdir(), "tp-mtls-"));
let stack: Stack;

/** openssl with its arguments, in the temporary directory. */
function openssl(...args: string[]) {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

/** A P-256 key and a certificate for `cn` signed by the CA `ca` (files <name>.key, <name>.pem). */
function issue(name: string, cn: string, ca: string, ext?: string) {
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
  openssl("req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`);
  const extArgs: string[] = [];
  if (ext) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    extArgs.push("-extfile", `${name}.ext`);
  }
  openssl(
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "1",
    "-out",
    `${name}.pem`,
    ...extArgs,
  );
}

function makeCa(name: string) {
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
  openssl(
    "req",
    "-x509",
    "-new",
    "-key",
    `${name}.key`,
    "-subj",
    `/CN=${name}`,
    "-days",
    "1",
    "-out",
    `${name}.pem`,
  );
}

const file = (name: string) => readFileSync(join(dir, name));

/** An AdminService client over TLS, with the client certificate `cert` and/or an API key. */
function admin(opts: { cert?: string; key?: string }) {
  const interceptors: Interceptor[] = [];
  if (opts.key) {
    const key = opts.key;
    interceptors.push((next) => (req) => {
      req.header.set("authorization", `Bearer ${key}`);
      return next(req);
    });
  }
  const nodeOptions: Record<string, Buffer> = { ca: file("ca.pem") };
  if (opts.cert) {
    nodeOptions.cert = file(`${opts.cert}.pem`);
    nodeOptions.key = file(`${opts.cert}.key`);
  }
  return createClient(
    AdminService,
    createConnectTransport({ httpVersion: "2", baseUrl: stack.coreUrl, nodeOptions, interceptors }),
  );
}

const whoAmI = (opts: { cert?: string; key?: string }) =>
  admin(opts)
    .whoAmI({})
    .then(
      (r) => ({ principal: r.principal, roles: r.roles, kind: r.credentialKind }),
      (err: unknown) => ({ reason: reasonOf(err) }),
    );

beforeAll(async () => {
  makeCa("ca");
  issue("core", "core", "ca", "subjectAltName=IP:127.0.0.1\n");
  issue("payments", "payments", "ca");
  issue("stranger", "stranger", "ca");
  issue("edge", "edge", "ca");
  makeCa("rogue");
  issue("impostor", "payments", "rogue");
  stack = await startStack({
    coreEnv: {
      TRONPAY_CORE_TLS_CERT: join(dir, "core.pem"),
      TRONPAY_CORE_TLS_KEY: join(dir, "core.key"),
      TRONPAY_CORE_TLS_CLIENT_CA: join(dir, "ca.pem"),
      TRONPAY_CORE_MTLS_PRINCIPALS: "payments=service|auditor",
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("core over TLS with client certificates", () => {
  it("serves TLS when given a certificate", () => {
    expect(stack.coreUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("takes a listed certificate as its principal, with the listed roles", async () => {
    expect(await whoAmI({ cert: "payments" })).toEqual({
      principal: "cert:payments",
      roles: [Role.AUDITOR, Role.SERVICE],
      kind: CredentialKind.CLIENT_CERTIFICATE,
    });
  });

  it("checks the roles of a certificate's principal like any other", async () => {
    const answer = await admin({ cert: "payments" })
      .createApiKey({ idempotencyKey: "k1", name: "x", roles: [Role.ADMIN] })
      .then(
        () => "ok",
        (err: unknown) => reasonOf(err),
      );
    expect(answer).toBe("auth.permission_denied");
  });

  it("refuses an unlisted name, a certificate from another CA, and no certificate at all", async () => {
    expect(await whoAmI({ cert: "stranger" })).toEqual({ reason: "auth.unauthenticated" });
    expect(await whoAmI({ cert: "impostor" })).toEqual({ reason: "auth.unauthenticated" });
    expect(await whoAmI({})).toEqual({ reason: "auth.unauthenticated" });
  });

  it("keeps API keys working over TLS, and a presented key wins over the certificate", async () => {
    const asKey = { kind: CredentialKind.API_KEY, roles: [Role.ADMIN] };
    expect(await whoAmI({ key: stack.adminKey })).toMatchObject(asKey);
    expect(await whoAmI({ key: stack.adminKey, cert: "payments" })).toMatchObject(asKey);
  });

  it("is reached by an edge that trusts core's CA and presents its own certificate", async () => {
    const edge = await runEdge(
      [],
      {
        TRONPAY_CORE_URL: stack.coreUrl,
        TRONPAY_EDGE_HOST: "127.0.0.1",
        TRONPAY_EDGE_PORT: "0",
        TRONPAY_EDGE_CORE_CA: join(dir, "ca.pem"),
        TRONPAY_EDGE_CORE_CERT: join(dir, "edge.pem"),
        TRONPAY_EDGE_CORE_KEY: join(dir, "edge.key"),
      },
      { log: createLogger({ name: "edge", level: "silent" }) },
    );
    try {
      const headers = { authorization: `Bearer ${stack.adminKey}` };
      const rest = await fetch(`${edge.url}/v1/whoami`, { headers });
      expect(rest.status).toBe(200);
      expect(((await rest.json()) as { credentialKind: string }).credentialKind).toBe(
        "CREDENTIAL_KIND_API_KEY",
      );
      // The pass-through (Connect) goes over the same TLS session.
      const connect = await fetch(`${edge.url}/tronpay.v1.AdminService/WhoAmI`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: "{}",
      });
      expect(connect.status).toBe(200);
      expect((await fetch(`${edge.url}/readyz`)).status).not.toBe(502);
    } finally {
      await edge.stop();
    }
  });
});
