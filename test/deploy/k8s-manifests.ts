import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Pod, Service, ServiceAccount } from "kubernetes-models/v1";
import { z } from "zod";
import { obj, readYamlDocuments, type Tree, yamlFilesUnder } from "./files.js";

/** A parsed manifest and the file it came from. */
export interface Manifest {
  file: string;
  doc: Tree;
  kind: string;
  name: string;
}

type Validate = (doc: Tree) => void;
const model =
  (Cls: new (data: never) => { validate(): void }): Validate =>
  (doc) =>
    new Cls(doc as never).validate();

/**
 * The CloudNativePG Cluster fields this deployment relies on. No package ships the operator's
 * schema offline, so the shape is checked here (after its v1 CRD).
 */
const cnpgCluster = z.object({
  apiVersion: z.literal("postgresql.cnpg.io/v1"),
  kind: z.literal("Cluster"),
  metadata: z.object({ name: z.string().min(1) }).passthrough(),
  spec: z
    .object({
      instances: z.number().int().min(1),
      imageName: z.string().min(1).optional(),
      primaryUpdateStrategy: z.enum(["unsupervised", "supervised"]).optional(),
      postgresql: z
        .object({
          parameters: z.record(z.string()).optional(),
          synchronous: z
            .object({ method: z.enum(["any", "first"]), number: z.number().int().min(1) })
            .strict()
            .optional(),
        })
        .strict()
        .optional(),
      bootstrap: z
        .object({ initdb: z.object({ database: z.string(), owner: z.string() }).strict() })
        .strict(),
      storage: z.object({ size: z.string().regex(/^\d+(Mi|Gi|Ti)$/) }).strict(),
      resources: z.record(z.record(z.string())).optional(),
      monitoring: z.object({ enablePodMonitor: z.boolean() }).strict().optional(),
      affinity: z
        .object({ enablePodAntiAffinity: z.boolean(), topologyKey: z.string() })
        .strict()
        .optional(),
    })
    .strict(),
});

/** kustomize.config.k8s.io/v1beta1 Kustomization, the fields used here. */
export const kustomization = z
  .object({
    apiVersion: z.literal("kustomize.config.k8s.io/v1beta1"),
    kind: z.literal("Kustomization"),
    namespace: z.string().optional(),
    labels: z
      .array(z.object({ pairs: z.record(z.string()), includeSelectors: z.boolean() }))
      .optional(),
    resources: z.array(z.string()).min(1),
    images: z
      .array(z.object({ name: z.string(), newName: z.string(), newTag: z.string() }).strict())
      .optional(),
    patches: z.array(z.object({ path: z.string() }).strict()).optional(),
    configMapGenerator: z
      .array(z.object({ name: z.string(), files: z.array(z.string()) }).strict())
      .optional(),
  })
  .strict();

/** How each apiVersion/kind is validated: Kubernetes' own schemas where a package has them. */
export const VALIDATORS: Record<string, Validate> = {
  "apps/v1/Deployment": model(Deployment),
  "v1/Service": model(Service),
  "v1/ServiceAccount": model(ServiceAccount),
  "v1/ConfigMap": model(ConfigMap),
  "v1/Pod": model(Pod),
  "v1/Namespace": model(Namespace),
  "autoscaling/v2/HorizontalPodAutoscaler": model(HorizontalPodAutoscaler),
  "policy/v1/PodDisruptionBudget": model(PodDisruptionBudget),
  "networking.k8s.io/v1/NetworkPolicy": model(NetworkPolicy),
  "monitoring.coreos.com/v1/PrometheusRule": model(PrometheusRule),
  "postgresql.cnpg.io/v1/Cluster": (doc) => void cnpgCluster.parse(doc),
};

/** Every manifest in the files a kustomization lists (not the kustomization itself). */
export function loadManifests(dir: string, files: readonly string[]): Manifest[] {
  return files.flatMap((file) =>
    readYamlDocuments(`${dir}/${file}`).map((raw) => {
      const doc = obj(raw, file);
      const metadata = obj(doc.metadata, `${file} metadata`);
      return { file, doc, kind: String(doc.kind), name: String(metadata.name) };
    }),
  );
}

/** The key of VALIDATORS for a manifest. */
export function typeOf(doc: Tree): string {
  return `${doc.apiVersion}/${doc.kind}`;
}

/** A patch applied onto its target the way a strategic merge does for plain mappings. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isTree(target) || !isTree(patch)) return patch;
  const out: Tree = { ...target };
  for (const [k, v] of Object.entries(patch)) out[k] = mergePatch(target[k], v);
  return out;
}

function isTree(v: unknown): v is Tree {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Every YAML file under deploy/k8s. */
export function allK8sYaml(): string[] {
  return yamlFilesUnder("deploy/k8s");
}
