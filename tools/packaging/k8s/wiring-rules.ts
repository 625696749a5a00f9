// Rules on how the objects point at each other: Services reach container ports,
// PodDisruptionBudgets and the HorizontalPodAutoscaler find their Deployments,
// and the URLs in the services' environment name Services that exist.

import { parseRedisAddr } from "../../../internal/recache/index.ts";
import type { K8sObject } from "./kustomize.ts";
import { objectId } from "./kustomize.ts";
import {
  asObj,
  asObjList,
  findObject,
  namespaceOf,
  parseQuantity,
  resolvePort,
  selectedWorkloads,
  type Workload,
} from "./objects.ts";
import type { ServiceWorkload } from "./workload-rules.ts";

/** Where a URL in a service's environment leads. */
export type Destination =
  | { kind: "pods"; service: K8sObject; port: number; targets: { workload: Workload; port: number }[] }
  | { kind: "external"; host: string; port: number }
  | { kind: "unknown"; port: number };

/** The variables that name another endpoint, with the port when the URL has none. */
export const URL_VARIABLES = {
  booksvc: [
    { name: "STORAGESVC_URL", defaultPort: 80 },
    { name: "REDIS_URL", defaultPort: 6379 },
    { name: "REDIS_ADDR", defaultPort: 6379 },
  ],
  storagesvc: [{ name: "DATABASE_URL", defaultPort: 5432 }],
} as const;

function hostAndPort(raw: string, defaultPort: number): { host: string; port: number } | undefined {
  if (!raw.includes("://")) return redisAddrOf(raw); // REDIS_ADDR is host:port
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : defaultPort) : Number(url.port);
  return { host: url.hostname, port };
}

/** REDIS_ADDR as booksvc parses it; undefined where booksvc would refuse it. */
function redisAddrOf(raw: string): { host: string; port: number } | undefined {
  try {
    return parseRedisAddr(raw);
  } catch {
    return undefined;
  }
}

/** A host name that only cluster DNS resolves: `name`, `name.namespace`, `name.namespace.svc[.cluster.local]`. */
function inClusterService(host: string, namespace: string, objects: K8sObject[]): { name: string; namespace: string } | undefined {
  const parts = host.split(".");
  if (parts.length === 1) return { name: host, namespace };
  const namespaces = new Set(objects.map(namespaceOf));
  if (parts.length === 2 && namespaces.has(parts[1]!)) return { name: parts[0]!, namespace: parts[1]! };
  if (/\.svc(\.cluster\.local)?$/.test(host)) return { name: parts[0]!, namespace: parts[1]! };
  return undefined;
}

/** Where `value` (a URL or host:port) leads from `from`'s namespace; a problem when it names a Service that is not there. */
export function resolveDestination(
  value: string | undefined,
  defaultPort: number,
  namespace: string,
  objects: K8sObject[],
  all: Workload[],
): { destination: Destination; problem?: string } {
  if (value === undefined) return { destination: { kind: "unknown", port: defaultPort } };
  const parsed = hostAndPort(value, defaultPort);
  if (!parsed) return { destination: { kind: "unknown", port: defaultPort }, problem: "is not a URL" };
  const ref = inClusterService(parsed.host, namespace, objects);
  if (!ref) return { destination: { kind: "external", ...parsed } };
  const service = findObject(objects, "Service", ref.namespace, ref.name);
  if (!service) return { destination: { kind: "unknown", port: parsed.port }, problem: `points at ${parsed.host}, but there is no Service ${ref.namespace}/${ref.name} in this build` };
  const spec = asObj(service.spec);
  const servicePort = asObjList(spec.ports).find((p) => p.port === parsed.port);
  if (!servicePort) {
    const ports = asObjList(spec.ports).map((p) => String(p.port)).join(", ");
    return { destination: { kind: "unknown", port: parsed.port }, problem: `uses port ${parsed.port}, but Service ${ref.name} exposes ${ports}` };
  }
  const targetRef = servicePort.targetPort ?? servicePort.port;
  const protocol = typeof servicePort.protocol === "string" ? servicePort.protocol : "TCP";
  const targets = selectedWorkloads(all, ref.namespace, spec.selector).flatMap((workload) => {
    const port = resolvePort(targetRef, workload.containers, protocol);
    return port === undefined ? [] : [{ workload, port }];
  });
  return { destination: { kind: "pods", service, port: parsed.port, targets } };
}

/** Every Service selects pods and each targetPort is one of their container ports. */
export function serviceProblems(objects: K8sObject[], all: Workload[]): string[] {
  const problems: string[] = [];
  for (const service of objects.filter((o) => o.kind === "Service")) {
    const id = objectId(service);
    const spec = asObj(service.spec);
    if (Object.keys(asObj(spec.selector)).length === 0) {
      problems.push(`${id}: no selector: it would have no endpoints`);
      continue;
    }
    // A Service selector is matchLabels only.
    const targets = selectedWorkloads(all, namespaceOf(service), { matchLabels: spec.selector });
    if (targets.length === 0) {
      problems.push(`${id}: selector ${JSON.stringify(spec.selector)} matches no Deployment's pods`);
      continue;
    }
    for (const port of asObjList(spec.ports)) {
      const targetRef = port.targetPort ?? port.port;
      const protocol = typeof port.protocol === "string" ? port.protocol : "TCP";
      for (const target of targets) {
        if (resolvePort(targetRef, target.containers, protocol) === undefined) {
          problems.push(`${id}: port ${String(port.port)} targets ${String(targetRef)}, which is not a containerPort of ${target.id}`);
        }
      }
    }
  }
  return problems;
}

const percent = (v: unknown, of: number): number | undefined => {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^\d+%$/.test(v)) return Math.floor((Number.parseInt(v, 10) / 100) * of);
  return undefined;
};

/** Each PDB selects a Deployment and lets at least one pod go; each of our services has one. */
export function pdbProblems(objects: K8sObject[], all: Workload[], services: ServiceWorkload[]): string[] {
  const problems: string[] = [];
  const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget");
  for (const pdb of pdbs) {
    const id = objectId(pdb);
    const spec = asObj(pdb.spec);
    const targets = selectedWorkloads(all, namespaceOf(pdb), spec.selector);
    if (targets.length === 0) {
      problems.push(`${id}: selector matches no Deployment's pods`);
      continue;
    }
    for (const target of targets) {
      const maxUnavailable = percent(spec.maxUnavailable, target.replicas);
      const minAvailable = percent(spec.minAvailable, target.replicas);
      if (maxUnavailable === 0 || (minAvailable !== undefined && minAvailable >= target.replicas)) {
        problems.push(`${id}: allows no disruption of ${target.id} (${target.replicas} replicas): node drains would block forever`);
      }
    }
  }
  for (const s of services) {
    const covered = pdbs.some((pdb) => namespaceOf(pdb) === s.workload.namespace && selectedWorkloads([s.workload], s.workload.namespace, asObj(pdb.spec).selector).length > 0);
    if (!covered) problems.push(`${s.workload.id}: no PodDisruptionBudget selects its pods`);
  }
  return problems;
}

/** The HPA targets a Deployment it can measure, within its replica bounds; booksvc has one. */
export function hpaProblems(objects: K8sObject[], all: Workload[], services: ServiceWorkload[]): string[] {
  const problems: string[] = [];
  const hpas = objects.filter((o) => o.kind === "HorizontalPodAutoscaler");
  for (const hpa of hpas) {
    const id = objectId(hpa);
    const spec = asObj(hpa.spec);
    const ref = asObj(spec.scaleTargetRef);
    const target = all.find((w) => w.namespace === namespaceOf(hpa) && ref.kind === "Deployment" && w.deployment.metadata.name === ref.name);
    if (!target) {
      problems.push(`${id}: scaleTargetRef ${String(ref.kind)} ${String(ref.name)} is not in this build`);
      continue;
    }
    const min = typeof spec.minReplicas === "number" ? spec.minReplicas : 1;
    const max = Number(spec.maxReplicas);
    if (!(min <= target.replicas && target.replicas <= max)) {
      problems.push(`${id}: ${target.id} has ${target.replicas} replicas, outside minReplicas ${min} .. maxReplicas ${max}`);
    }
    for (const metric of asObjList(spec.metrics)) {
      const resource = asObj(metric.resource);
      if (metric.type !== "Resource" || asObj(resource.target).type !== "Utilization") continue;
      for (const container of target.containers) {
        if (parseQuantity(asObj(asObj(container.resources).requests)[String(resource.name)]) === undefined) {
          problems.push(`${id}: scales on ${String(resource.name)} utilization, but container ${String(container.name)} has no ${String(resource.name)} request to measure it against`);
        }
      }
    }
  }
  const booksvc = services.find((s) => s.service === "booksvc");
  if (booksvc && !hpas.some((h) => asObj(asObj(h.spec).scaleTargetRef).name === booksvc.workload.deployment.metadata.name)) {
    problems.push(`${booksvc.workload.id}: no HorizontalPodAutoscaler scales it`);
  }
  return problems;
}

/** The services' URLs lead to Services that exist, and STORAGESVC_URL to storagesvc. */
export function urlProblems(objects: K8sObject[], all: Workload[], services: ServiceWorkload[]): string[] {
  const problems: string[] = [];
  for (const s of services) {
    for (const { name, defaultPort } of URL_VARIABLES[s.service]) {
      const source = s.env.vars.get(name);
      if (!source || source.value === undefined) continue;
      const { destination, problem } = resolveDestination(source.value, defaultPort, s.workload.namespace, objects, all);
      if (problem) problems.push(`${s.workload.id}: ${name} ${problem}`);
      if (name === "STORAGESVC_URL") {
        const storagesvc = services.find((x) => x.service === "storagesvc");
        if (destination.kind !== "pods" && !problem) {
          problems.push(`${s.workload.id}: STORAGESVC_URL must name the storagesvc Service of this build, not ${source.value}`);
        } else if (destination.kind === "pods" && storagesvc) {
          const target = destination.targets.find((t) => t.workload === storagesvc.workload);
          if (!target) problems.push(`${s.workload.id}: STORAGESVC_URL leads to Service ${destination.service.metadata.name}, which does not select storagesvc's pods`);
          else if (target.port !== storagesvc.port) {
            problems.push(`${s.workload.id}: STORAGESVC_URL reaches container port ${target.port}, but storagesvc listens on ${storagesvc.port}`);
          }
        }
      }
    }
  }
  return problems;
}
