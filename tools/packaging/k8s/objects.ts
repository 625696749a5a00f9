// Reading built Kubernetes objects: label selectors, quantities, pods of
// Deployments and their ports. Shared by the rules; no rule lives here.

import { isObj, type Obj } from "../shapes.ts";
import { type K8sObject, objectId } from "./kustomize.ts";

export type { Obj };

export type Labels = Record<string, string>;

/** A Deployment's pod template, unpacked once for the rules. */
export interface Workload {
  deployment: K8sObject;
  id: string;
  namespace: string;
  replicas: number;
  podLabels: Labels;
  podSpec: Obj;
  containers: Obj[];
}

export const asObj = (v: unknown): Obj => (isObj(v) ? v : {});
export const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const asObjList = (v: unknown): Obj[] => asList(v).filter(isObj);
export const namespaceOf = (o: K8sObject): string => o.metadata.namespace ?? "default";

/** Kubernetes label selector semantics: matchLabels and matchExpressions, all must hold; `{}` selects everything. */
export function selectorMatches(selector: unknown, labels: Labels): boolean {
  if (!isObj(selector)) return false;
  for (const [key, value] of Object.entries(asObj(selector.matchLabels))) {
    if (labels[key] !== String(value)) return false;
  }
  for (const expression of asObjList(selector.matchExpressions)) {
    const key = String(expression.key);
    const values = asList(expression.values).map(String);
    const has = Object.hasOwn(labels, key);
    switch (expression.operator) {
      case "In":
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[key]!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A selector with nothing in it: it selects every pod. */
export const isEmptySelector = (selector: unknown): boolean =>
  isObj(selector) && Object.keys(asObj(selector.matchLabels)).length === 0 && asList(selector.matchExpressions).length === 0;

const SUFFIXES: Record<string, number> = {
  m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A resource quantity (`100m`, `1`, `384Mi`, `1e3`) in base units (cores, bytes); undefined if malformed. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(value.trim());
  if (!match) return undefined;
  const number = Number(match[1]);
  if (match[2] !== undefined) return number * 10 ** Number(match[2].slice(1));
  return number * SUFFIXES[match[3] ?? ""]!;
}

export const MiB = 2 ** 20;

/** Every Deployment with its pod template unpacked. */
export function workloads(objects: K8sObject[]): Workload[] {
  return objects
    .filter((o) => o.kind === "Deployment")
    .map((deployment) => {
      const spec = asObj(deployment.spec);
      const template = asObj(spec.template);
      const podSpec = asObj(template.spec);
      return {
        deployment,
        id: objectId(deployment),
        namespace: namespaceOf(deployment),
        replicas: typeof spec.replicas === "number" ? spec.replicas : 1,
        podLabels: Object.fromEntries(Object.entries(asObj(asObj(template.metadata).labels)).map(([k, v]) => [k, String(v)])),
        podSpec,
        containers: asObjList(podSpec.containers),
      };
    });
}

/** The Deployments in `namespace` whose pods `selector` selects. */
export const selectedWorkloads = (all: Workload[], namespace: string, selector: unknown): Workload[] =>
  all.filter((w) => w.namespace === namespace && selectorMatches(selector, w.podLabels));

export type ContainerPort = { name: string | undefined; number: number; protocol: string };

export const containerPorts = (containers: Obj[]): ContainerPort[] =>
  containers.flatMap((c) =>
    asObjList(c.ports).map((p) => ({
      name: typeof p.name === "string" ? p.name : undefined,
      number: Number(p.containerPort),
      protocol: typeof p.protocol === "string" ? p.protocol : "TCP",
    })),
  );

/** The container port a name or number refers to in these containers (a number must be declared too). */
export function resolvePort(ref: unknown, containers: Obj[], protocol = "TCP"): number | undefined {
  const ports = containerPorts(containers).filter((p) => p.protocol === protocol);
  if (typeof ref === "number") return ports.find((p) => p.number === ref)?.number;
  if (typeof ref === "string" && /^\d+$/.test(ref)) return ports.find((p) => p.number === Number(ref))?.number;
  return ports.find((p) => p.name === ref)?.number;
}

/** The objects of `kind` by namespace and name. */
export function findObject(objects: K8sObject[], kind: string, namespace: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && namespaceOf(o) === namespace && o.metadata.name === name);
}
