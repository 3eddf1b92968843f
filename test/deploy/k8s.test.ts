import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { coreConfigSpec } from "../../src/core/app/config.js";
import { edgeConfigSpec } from "../../src/edge/config.js";
import { NODE_FLAGS } from "../../src/launcher/node-flags.js";
import { isAddress } from "../../src/shared/address.js";
import { signerConfigSpec } from "../../src/signer/config.js";
import { obj, ROOT, readYaml, type Tree } from "./files.js";
import {
  kustomization,
  loadManifests,
  type Manifest,
  mergePatch,
  typeOf,
  VALIDATORS,
} from "./k8s-manifests.js";

const BASE = "deploy/k8s/base";
const OVERLAY = "deploy/k8s/overlays/example";
const baseKustomization = kustomization.parse(readYaml(`${BASE}/kustomization.yaml`));
const overlayKustomization = kustomization.parse(readYaml(`${OVERLAY}/kustomization.yaml`));
const base = loadManifests(BASE, baseKustomization.resources);
const overlayOwn = loadManifests(
  OVERLAY,
  overlayKustomization.resources.filter((r) => !r.startsWith("..")),
);

function find(kind: string, name: string): Tree {
  const m = base.find((x) => x.kind === kind && x.name === name);
  if (!m) throw new Error(`no ${kind} ${name}`);
  return m.doc;
}

function podSpec(name: string): Tree {
  const spec = obj(find("Deployment", name).spec, name);
  return obj(obj(spec.template, "template").spec, "pod spec");
}

type Container = Tree & { name: string };
function containers(name: string, init = false): Container[] {
  const spec = podSpec(name);
  return ((init ? spec.initContainers : spec.containers) ?? []) as Container[];
}

function container(deployment: string, name: string): Container {
  const c = containers(deployment).find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name} in ${deployment}`);
  return c;
}

function podLabels(name: string): Tree {
  const template = obj(obj(find("Deployment", name).spec, name).template, "template");
  return obj(obj(template.metadata, "metadata").labels, "labels");
}

function policy(name: string): Tree {
  return obj(find("NetworkPolicy", name).spec, name);
}

/** The pod label selectors (matchLabels) of a policy's egress or ingress peers. */
function peers(rules: unknown): Tree[] {
  return ((rules ?? []) as Tree[]).flatMap((r) => ((r.to ?? r.from ?? []) as Tree[]).map((p) => p));
}

describe("deploy/k8s manifests", () => {
  it("lists every base file in the kustomization, and every listed file exists", () => {
    const files = readdirSync(join(ROOT, BASE)).filter((f) => f.endsWith(".yaml"));
    expect(files.filter((f) => f !== "kustomization.yaml").sort()).toEqual(
      [...baseKustomization.resources].sort(),
    );
    for (const g of baseKustomization.configMapGenerator ?? [])
      for (const f of g.files) expect(existsSync(join(ROOT, BASE, f)), f).toBe(true);
    for (const p of overlayKustomization.patches ?? [])
      expect(existsSync(join(ROOT, OVERLAY, p.path)), p.path).toBe(true);
  });

  it("validates every manifest against the Kubernetes (or operator) schema of its kind", () => {
    for (const m of [...base, ...overlayOwn]) {
      const validate = VALIDATORS[typeOf(m.doc)];
      expect(validate, `${m.file}: ${typeOf(m.doc)} has no validator`).toBeDefined();
      expect(() => validate?.(m.doc), `${m.file} ${m.kind}/${m.name}`).not.toThrow();
    }
  });

  it("schema validation catches a wrong field type (it is not vacuous)", () => {
    const broken = structuredClone(find("Deployment", "tronpay-core"));
    obj(broken.spec, "spec").replicas = "two";
    expect(() => VALIDATORS["apps/v1/Deployment"]?.(broken)).toThrow();
  });

  it("validates the overlay's patches applied onto their base resources", () => {
    for (const p of overlayKustomization.patches ?? []) {
      const [patch] = loadManifests(OVERLAY, [p.path]) as [Manifest];
      const merged = mergePatch(find(patch.kind, patch.name), patch.doc) as Tree;
      expect(() => VALIDATORS[typeOf(merged)]?.(merged), p.path).not.toThrow();
    }
    const config = overlayOwn.length > 0 ? loadManifests(OVERLAY, ["config.yaml"])[0] : undefined;
    const usdt = String(obj(config?.doc.data, "data").TRONPAY_USDT_CONTRACT);
    expect(isAddress(usdt)).toBe(true);
  });

  it("runs the signer as a sidecar of core, sharing only an emptyDir socket", () => {
    const signer = container("tronpay-core", "signer");
    expect(signer.ports).toBeUndefined();
    const socketVolume = (podSpec("tronpay-core").volumes as Tree[]).find(
      (v) => v.name === "signer-socket",
    );
    expect(socketVolume?.emptyDir).toBeDefined();
    for (const name of ["core", "signer"]) {
      const mounts = container("tronpay-core", name).volumeMounts as Tree[];
      expect(mounts.find((m) => m.name === "signer-socket")?.mountPath).toBe("/run/tronpay");
    }
    expect(
      (obj(signer, "signer").env as Tree[]).find((e) => e.name === "TRONPAY_SIGNER_SOCKET")?.value,
    ).toBe("/run/tronpay/signer.sock");
  });

  it("runs built JavaScript with the V8 flags npm start passes each process", () => {
    const runs = [
      ["tronpay-core", "core"],
      ["tronpay-core", "signer"],
      ["tronpay-edge", "edge"],
    ] as const;
    for (const [deployment, name] of runs) {
      expect(container(deployment, name).args, name).toEqual([
        ...NODE_FLAGS[name],
        `dist/${name}/main.js`,
      ]);
    }
  });

  it("runs Tor as a sidecar of the edge, which listens on loopback only", () => {
    expect(container("tronpay-edge", "tor").image).toBe("tronpay-tor");
    const env = container("tronpay-edge", "edge").env as Tree[];
    expect(env.find((e) => e.name === "TRONPAY_EDGE_HOST")?.value).toBe("127.0.0.1");
    expect(env.find((e) => e.name === "TOR_CONTROL_HOST")?.value).toBe("127.0.0.1");
  });

  it("denies all traffic by default, the signer's pod included", () => {
    const deny = policy("default-deny-all");
    expect(deny.podSelector).toEqual({});
    expect(deny.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(deny.ingress).toBeUndefined();
    expect(deny.egress).toBeUndefined();
    // No policy admits traffic to any port but core's API on core's pods (the signer has none).
    const corePorts = (container("tronpay-core", "core").ports as Tree[]).map(
      (p) => p.containerPort,
    );
    const core = policy("tronpay-core");
    for (const rule of core.ingress as Tree[])
      for (const port of rule.ports as Tree[]) expect(corePorts).toContain(port.port);
  });

  it("lets core reach only PostgreSQL, Redis, the edge's Tor and DNS", () => {
    const allowed = [
      { "cnpg.io/cluster": "tronpay-db" },
      { "app.kubernetes.io/name": "tronpay-redis" },
      { "app.kubernetes.io/name": "tronpay-edge" },
      { "k8s-app": "kube-dns" },
    ];
    const core = policy("tronpay-core");
    for (const peer of peers(core.egress)) {
      expect(peer.ipBlock, "core has no ipBlock egress").toBeUndefined();
      expect(allowed).toContainEqual(obj(peer.podSelector, "podSelector").matchLabels);
    }
    expect(peers(core.egress).length).toBe(allowed.length);
    expect(podLabels("tronpay-redis")["app.kubernetes.io/name"]).toBe("tronpay-redis");
  });

  it("lets the edge reach only core and public addresses (Tor), never private ranges", () => {
    const edge = policy("tronpay-edge");
    for (const peer of peers(edge.egress)) {
      if (peer.ipBlock) {
        const block = obj(peer.ipBlock, "ipBlock");
        expect(block.except).toEqual(
          expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]),
        );
      } else {
        expect([
          { "app.kubernetes.io/name": "tronpay-core" },
          { "k8s-app": "kube-dns" },
        ]).toContainEqual(obj(peer.podSelector, "podSelector").matchLabels);
      }
    }
    // In: core to the SOCKS port, nothing else.
    expect(edge.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "tronpay-core" } } }],
        ports: [{ port: 9050, protocol: "TCP" }],
      },
    ]);
  });

  it("runs every container non-root, read-only, without capabilities or privilege escalation", () => {
    for (const d of base.filter((m) => m.kind === "Deployment")) {
      const spec = podSpec(d.name);
      const pod = obj(spec.securityContext, `${d.name} pod securityContext`);
      expect(pod.runAsNonRoot, d.name).toBe(true);
      expect(pod.seccompProfile, d.name).toEqual({ type: "RuntimeDefault" });
      expect(spec.automountServiceAccountToken, d.name).toBe(false);
      for (const c of [...containers(d.name), ...containers(d.name, true)]) {
        const sc = obj(c.securityContext, `${d.name}/${c.name}`);
        expect(sc.runAsNonRoot, c.name).toBe(true);
        expect(sc.allowPrivilegeEscalation, c.name).toBe(false);
        expect(sc.readOnlyRootFilesystem, c.name).toBe(true);
        expect(sc.capabilities, c.name).toEqual({ drop: ["ALL"] });
        expect(obj(obj(c.resources, c.name).limits, c.name).memory, c.name).toBeDefined();
      }
    }
  });

  it("probes core on the standard gRPC health service at its API port", () => {
    const core = container("tronpay-core", "core");
    const port = (core.ports as Tree[])[0]?.containerPort;
    // Readiness: the whole server (every dependency); startup and liveness: the process only.
    expect(obj(core.readinessProbe, "readinessProbe").grpc).toEqual({ port });
    for (const probe of ["startupProbe", "livenessProbe"])
      expect(obj(core[probe], probe).grpc, probe).toEqual({
        port,
        service: "grpc.health.v1.Health",
      });
  });

  it("keeps Tor's SOCKS Service routed while the edge is not ready (core needs it to recover)", () => {
    const socks = obj(find("Service", "tronpay-tor-socks").spec, "tor-socks");
    expect(socks.publishNotReadyAddresses).toBe(true);
  });

  it("points the HPA, PDBs and Services at workloads that exist", () => {
    const hpa = obj(find("HorizontalPodAutoscaler", "tronpay-core").spec, "hpa");
    expect(obj(hpa.scaleTargetRef, "ref")).toMatchObject({
      kind: "Deployment",
      name: "tronpay-core",
    });
    for (const m of base.filter((x) => x.kind === "PodDisruptionBudget" || x.kind === "Service")) {
      const spec = obj(m.doc.spec, m.name);
      const selector = (
        m.kind === "Service" ? spec.selector : obj(spec.selector, "s").matchLabels
      ) as Tree;
      const matches = base
        .filter((d) => d.kind === "Deployment")
        .filter((d) => Object.entries(selector).every(([k, v]) => podLabels(d.name)[k] === v));
      expect(matches.length, `${m.kind} ${m.name}`).toBe(1);
    }
  });

  it("sets only environment variables the processes read, from keys that exist", () => {
    const known: Record<string, Set<string>> = {
      core: envNames(coreConfigSpec.sources),
      signer: envNames(signerConfigSpec.sources),
      edge: envNames(edgeConfigSpec.sources),
    };
    const configData = obj(find("ConfigMap", "tronpay-config").data, "data");
    for (const [deployment, name] of [
      ["tronpay-core", "core"],
      ["tronpay-core", "signer"],
      ["tronpay-edge", "edge"],
    ] as const) {
      for (const e of container(deployment, name).env as Tree[]) {
        expect(known[name]?.has(String(e.name)), `${name} ${e.name}`).toBe(true);
        const ref = (e.valueFrom as Tree | undefined)?.configMapKeyRef as Tree | undefined;
        if (ref) expect(Object.keys(configData)).toContain(ref.key);
      }
    }
  });

  it("carries the same alert rules as deploy/alerts.rules.yml", () => {
    const rules = obj(readYaml("deploy/alerts.rules.yml"), "alerts");
    expect(obj(find("PrometheusRule", "tronpay").spec, "spec").groups).toEqual(rules.groups);
  });
});

function envNames(sources: Record<string, { env?: string } | undefined>): Set<string> {
  return new Set(Object.values(sources).flatMap((s) => (s?.env ? [s.env] : [])));
}

describe("deploy/k8s: core replicas and their signers (README, Replicas and their signers)", () => {
  const envOf = (c: Tree) => (c.env ?? []) as Tree[];
  const envValue = (c: Tree, name: string) => envOf(c).find((e) => e.name === name)?.value;
  const configData = () => obj(find("ConfigMap", "tronpay-config").data, "data");
  const adminPod = loadManifests("deploy/k8s/tools", ["wallet-admin.yaml"])[0] as Manifest;
  const adminSpec = obj(adminPod.doc.spec, "wallet-admin spec");
  const adminContainer = (name: string) =>
    (adminSpec.containers as Container[]).find((c) => c.name === name) as Container;

  it("gives every pod's signer the same keystore, read-only from the Secret, and its own journal", () => {
    const signer = container("tronpay-core", "signer");
    const mounts = signer.volumeMounts as Tree[];
    const secretMount = mounts.find((m) => m.name === "signer-secret");
    expect(secretMount).toMatchObject({ mountPath: "/secrets/signer", readOnly: true });
    expect(envValue(signer, "TRONPAY_SIGNER_KEYSTORE")).toBe("/secrets/signer/keystore.age");
    expect(envValue(signer, "TRONPAY_SIGNER_PASSPHRASE_FILE")).toBe("/secrets/signer/passphrase");
    const volumes = podSpec("tronpay-core").volumes as Tree[];
    const secret = obj(volumes.find((v) => v.name === "signer-secret")?.secret, "secret");
    expect(secret.secretName).toBe("tronpay-signer");
    expect((secret.items as Tree[]).map((i) => i.key).sort()).toEqual([
      "keystore.age",
      "passphrase",
    ]);
    // The journal: the data dir's default (no TRONPAY_SIGNER_JOURNAL), on a per-pod emptyDir.
    expect(envValue(signer, "TRONPAY_SIGNER_JOURNAL")).toBeUndefined();
    const dataDir = String(envValue(signer, "TRONPAY_SIGNER_DATA_DIR"));
    const dataMount = mounts.find((m) => m.mountPath === dataDir);
    expect(volumes.find((v) => v.name === dataMount?.name)?.emptyDir).toBeDefined();
    // Nothing makes a per-pod copy of the keystore any more.
    expect(containers("tronpay-core", true)).toEqual([]);
  });

  it("sizes each pod's signer caps so that one pod may sign a whole day of core's global limits", () => {
    const data = configData();
    const whole = (key: string) => {
      expect(data[key], key).toMatch(/^\d+$/);
      return BigInt(String(data[key]));
    };
    const routes = ["V0", "KYC", "DIRECT"];
    let largestPayout = 0n;
    for (const r of routes) {
      const max = whole(`TRONPAY_${r}_MAX_PER_PAYOUT`);
      if (max > largestPayout) largestPayout = max;
    }
    const dayTotal = routes.map((r) => whole(`TRONPAY_${r}_MAX_PER_DAY`)).reduce((a, b) => a + b);
    for (const asset of ["TRX", "USDT"]) {
      expect(whole(`TRONPAY_SIGNER_MAX_PER_TX_${asset}`)).toBeGreaterThanOrEqual(largestPayout);
      expect(whole(`TRONPAY_SIGNER_MAX_PER_24H_${asset}`)).toBeGreaterThanOrEqual(dayTotal);
    }
    // Each process reads its limits from those keys, not from values of its own.
    const fromConfig = (c: Tree, name: string) =>
      (
        (envOf(c).find((e) => e.name === name)?.valueFrom as Tree | undefined)?.configMapKeyRef as
          | Tree
          | undefined
      )?.key;
    for (const r of routes)
      for (const kind of ["PAYOUT", "DAY"]) {
        const name = `TRONPAY_${r}_MAX_PER_${kind}`;
        expect(fromConfig(container("tronpay-core", "core"), name), name).toBe(name);
      }
    for (const asset of ["TRX", "USDT"])
      for (const kind of ["TX", "24H"]) {
        const name = `TRONPAY_SIGNER_MAX_PER_${kind}_${asset}`;
        expect(fromConfig(container("tronpay-core", "signer"), name), name).toBe(name);
      }
  });

  it("has a one-off wallet-admin pod: the Deployment's pod with a writable copy of the keystore", () => {
    expect(() => VALIDATORS["v1/Pod"]?.(adminPod.doc)).not.toThrow();
    expect(baseKustomization.resources.some((r) => r.includes("wallet-admin"))).toBe(false);
    // Same label as core: the same NetworkPolicies apply to it.
    expect(obj(obj(adminPod.doc.metadata, "m").labels, "labels")["app.kubernetes.io/name"]).toBe(
      "tronpay-core",
    );
    expect(envOf(adminContainer("core"))).toEqual(envOf(container("tronpay-core", "core")));
    for (const name of ["core", "signer"])
      expect(adminContainer(name).args).toEqual(container("tronpay-core", name).args);
    const signerEnv = envOf(container("tronpay-core", "signer")).filter(
      (e) => e.name !== "TRONPAY_SIGNER_KEYSTORE",
    );
    expect(envOf(adminContainer("signer"))).toEqual(signerEnv);
    // Its keystore: the default path in the data dir, where the init container copies it.
    const copy = JSON.stringify((adminSpec.initContainers as Tree[])[0]?.command);
    const dataDir = String(envValue(adminContainer("signer"), "TRONPAY_SIGNER_DATA_DIR"));
    expect(copy).toContain(`${dataDir}/keystore.age`);
    for (const c of [
      ...(adminSpec.initContainers as Tree[]),
      ...(adminSpec.containers as Tree[]),
    ]) {
      const sc = obj(c.securityContext, String(c.name));
      expect(sc).toMatchObject({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    }
  });
});
