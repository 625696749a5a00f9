// Builds a kustomization without kubectl: exactly the subset deploy/k8s uses,
// `resources` (files and directories), `namespace`, `labels` (metadata labels
// only) and `images`. Anything else is refused by name rather than ignored,
// so a kustomization can never mean more to kubectl than to this checker.
// When kubectl is installed, tools/packaging/check-k8s.ts compares the two builds.

import { stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { isObj, type Obj, splitImageRef } from "../shapes.ts";

/** A Kubernetes object as read from YAML; fields beyond the metadata are checked elsewhere. */
export type K8sObject = Obj & {
  apiVersion: string;
  kind: string;
  metadata: Obj & { name: string; namespace?: string; labels?: Record<string, string> };
};

/** A kustomization this loader cannot build as kubectl would. */
export class KustomizeError extends Error {
  override name = "KustomizeError";
}

const SUPPORTED_FIELDS = new Set(["apiVersion", "kind", "resources", "namespace", "labels", "images"]);

/** Kinds without a namespace that kustomize's namespace transformer leaves alone (the ones a bookstore could ship). */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "PersistentVolume",
  "PriorityClass",
  "StorageClass",
]);

/**
 * The documents of a YAML stream, split the way Kubernetes' own YAML reader does:
 * on lines that are `---` and nothing else but spaces. Empty documents are dropped.
 */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  const documents = [""];
  for (const line of text.split(/\r?\n/)) {
    if (/^---\s*$/.test(line)) documents.push("");
    else documents[documents.length - 1] += `${line}\n`;
  }
  return documents.flatMap((document, index) => {
    let parsed: unknown;
    try {
      parsed = Bun.YAML.parse(document);
    } catch (error) {
      throw new KustomizeError(`${source}: document ${index + 1}: ${(error as Error).message}`);
    }
    return parsed === null || parsed === undefined ? [] : [parsed];
  });
}

/** The parsed objects of one manifest file, each checked to be a Kubernetes object with a name. */
export function parseManifest(text: string, source: string): K8sObject[] {
  return parseYamlDocuments(text, source).map((document, index) => {
    const metadata = isObj(document) ? document.metadata : undefined;
    if (
      !isObj(document) ||
      typeof document.apiVersion !== "string" ||
      typeof document.kind !== "string" ||
      !isObj(metadata) ||
      typeof metadata.name !== "string"
    ) {
      throw new KustomizeError(`${source}: document ${index + 1} is not a Kubernetes object with apiVersion, kind and metadata.name`);
    }
    return document as K8sObject;
  });
}

export const objectId = (o: K8sObject): string =>
  `${o.kind} ${o.metadata.namespace === undefined ? "" : `${o.metadata.namespace}/`}${o.metadata.name}`;

type ImageRule = { name: string; newName?: string; newTag?: string; digest?: string };

function readImageRules(value: unknown, source: string): ImageRule[] {
  if (!Array.isArray(value)) throw new KustomizeError(`${source}: images must be a list`);
  return value.map((entry, i) => {
    if (!isObj(entry) || typeof entry.name !== "string") throw new KustomizeError(`${source}: images[${i}] needs a name`);
    const extra = Object.keys(entry).filter((k) => !["name", "newName", "newTag", "digest"].includes(k));
    if (extra.length > 0) throw new KustomizeError(`${source}: images[${i}]: unsupported ${extra.join(", ")}`);
    for (const key of ["newName", "newTag", "digest"] as const) {
      if (entry[key] !== undefined && typeof entry[key] !== "string") {
        throw new KustomizeError(`${source}: images[${i}].${key} must be a string (quote a numeric tag)`);
      }
    }
    return entry as ImageRule;
  });
}

function readLabelPairs(value: unknown, source: string): Record<string, string> {
  if (!Array.isArray(value)) throw new KustomizeError(`${source}: labels must be a list`);
  const pairs: Record<string, string> = {};
  value.forEach((entry, i) => {
    if (!isObj(entry) || !isObj(entry.pairs)) throw new KustomizeError(`${source}: labels[${i}] needs pairs`);
    const extra = Object.keys(entry).filter((k) => k !== "pairs");
    if (extra.length > 0) {
      // includeSelectors/includeTemplates/fields rewrite selectors and templates: not implemented here.
      throw new KustomizeError(`${source}: labels[${i}]: unsupported ${extra.join(", ")} (only metadata labels are implemented)`);
    }
    for (const [k, v] of Object.entries(entry.pairs)) pairs[k] = String(v);
  });
  return pairs;
}

/** kustomize's image transformer: every `containers[]` and `initContainers[]` image, wherever it sits. */
function setImages(node: unknown, rules: ImageRule[]): void {
  if (Array.isArray(node)) {
    for (const item of node) setImages(item, rules);
    return;
  }
  if (!isObj(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if ((key === "containers" || key === "initContainers") && Array.isArray(value)) {
      for (const container of value) {
        if (!isObj(container) || typeof container.image !== "string") continue;
        const current = splitImageRef(container.image);
        const rule = rules.find((r) => r.name === current.name);
        if (!rule) continue;
        const name = rule.newName ?? current.name;
        if (rule.digest !== undefined) container.image = `${name}@${rule.digest}`;
        else if (rule.newTag !== undefined) container.image = `${name}:${rule.newTag}`;
        else container.image = `${name}${current.tag === undefined ? "" : `:${current.tag}`}${current.digest === undefined ? "" : `@${current.digest}`}`;
      }
    }
    setImages(value, rules);
  }
}

/** The objects `kubectl kustomize <dir>` would print, for the subset described above. */
export async function buildKustomization(dir: string, root = dir): Promise<K8sObject[]> {
  const source = relative(root, join(dir, "kustomization.yaml")) || "kustomization.yaml";
  const file = Bun.file(join(dir, "kustomization.yaml"));
  if (!(await file.exists())) throw new KustomizeError(`${relative(root, dir) || "."}: no kustomization.yaml`);
  const [kustomization] = parseYamlDocuments(await file.text(), source);
  if (!isObj(kustomization)) throw new KustomizeError(`${source}: not a mapping`);

  const unsupported = Object.keys(kustomization).filter((k) => !SUPPORTED_FIELDS.has(k));
  if (unsupported.length > 0) {
    throw new KustomizeError(
      `${source}: ${unsupported.join(", ")} not supported by the offline build (tools/packaging/k8s/kustomize.ts implements resources, namespace, labels, images)`,
    );
  }

  const resources = kustomization.resources ?? [];
  if (!Array.isArray(resources) || !resources.every((r) => typeof r === "string")) {
    throw new KustomizeError(`${source}: resources must be a list of paths`);
  }
  const objects: K8sObject[] = [];
  for (const entry of resources as string[]) {
    if (/^[a-z]+:\/\//i.test(entry) || entry.startsWith("github.com/")) {
      throw new KustomizeError(`${source}: remote resource ${entry} not supported offline`);
    }
    const path = resolve(dir, entry);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new KustomizeError(`${source}: resource ${entry} does not exist`);
    if (info.isDirectory()) objects.push(...(await buildKustomization(path, root)));
    else objects.push(...parseManifest(await Bun.file(path).text(), relative(root, path)));
  }

  if (kustomization.namespace !== undefined) {
    if (typeof kustomization.namespace !== "string") throw new KustomizeError(`${source}: namespace must be a string`);
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = kustomization.namespace;
  }
  if (kustomization.labels !== undefined) {
    const pairs = readLabelPairs(kustomization.labels, source);
    for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...pairs };
  }
  if (kustomization.images !== undefined) setImages(objects, readImageRules(kustomization.images, source));

  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.apiVersion} ${objectId(o)}`;
    if (seen.has(id)) throw new KustomizeError(`${source}: ${objectId(o)} is defined twice`);
    seen.add(id);
  }
  return objects;
}
