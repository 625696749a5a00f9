// The connection budget: every connection storagesvc may open at once must fit the PostgreSQL
// server's max_connections, with the slots it keeps for superusers and room for an administrator.
// Checked wherever the build has the server itself (overlays/local); a base that points at an
// external database cannot know its max_connections.

import { storagesvcEnvVars } from "../../../internal/storagesvc/config.ts";
import { splitImageRef } from "../shapes.ts";
import { resolveEnv, readVariable } from "./env.ts";
import { type K8sObject, objectId } from "./kustomize.ts";
import { asList, asObj, asObjList, namespaceOf, type Obj, type Workload } from "./objects.ts";
import { SERVICES } from "./services.ts";
import type { ServiceWorkload } from "./workload-rules.ts";

/** Sessions kept free beyond the reserved slots: a psql, a monitoring agent, a backup. */
export const ADMIN_HEADROOM = 5;

/** PostgreSQL's defaults for the settings the budget reads. */
const DEFAULTS = { max_connections: 100, superuser_reserved_connections: 3, reserved_connections: 0 };

export interface ConnectionBudget {
  /** The most storagesvc pods at once: replicas (or the HPA's maxReplicas) plus the rollout's surge. */
  pods: number;
  poolMax: number;
  /** Connections the migration Jobs may hold. */
  migration: number;
  /** superuser_reserved_connections + reserved_connections: slots storagesvc's role can never use. */
  reserved: number;
  maxConnections: number;
}

/** Connections the budget needs: the pods' pools, the migration, the reserved slots and the headroom. */
export const connectionsNeeded = (b: ConnectionBudget): number => b.pods * b.poolMax + b.migration + b.reserved + ADMIN_HEADROOM;

/**
 * `-c name=value`, `-cname=value` and `--name=value` from a postgres container's command and args,
 * as the postgres image's entrypoint passes them to the server.
 */
export function serverSettings(container: Obj): Map<string, string> {
  const words = [...asList(container.command), ...asList(container.args)].map(String);
  const settings = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const pair = word === "-c" ? words[++i] : word.startsWith("-c") ? word.slice(2) : word.startsWith("--") ? word.slice(2) : undefined;
    const match = /^([a-z_]+)=(.*)$/.exec(pair ?? "");
    if (match) settings.set(match[1]!, match[2]!);
  }
  return settings;
}

/** The container running the official postgres image, with the Deployment it is in. */
function postgresServer(all: Workload[]): { workload: Workload; container: Obj } | undefined {
  for (const workload of all) {
    const container = workload.containers.find((c) => {
      const { name } = splitImageRef(String(c.image));
      return name === "postgres" || name.endsWith("/postgres");
    });
    if (container) return { workload, container };
  }
  return undefined;
}

/** A rolling update's maxSurge in pods for `replicas` (Kubernetes' default 25 %, rounded up); 0 for Recreate. */
export function surgePods(deployment: K8sObject, replicas: number): number {
  const strategy = asObj(asObj(deployment.spec).strategy);
  if (strategy.type === "Recreate") return 0;
  const raw = asObj(strategy.rollingUpdate).maxSurge ?? "25%";
  if (typeof raw === "number") return raw;
  const percent = /^(\d+)%$/.exec(String(raw));
  return percent ? Math.ceil((replicas * Number(percent[1])) / 100) : Number(raw) || 0;
}

/** The most pods of `workload` at once: its replicas, or the maxReplicas of an HPA that scales it, plus the surge. */
export function mostPods(workload: Workload, objects: K8sObject[]): number {
  const hpaMax = objects
    .filter((o) => o.kind === "HorizontalPodAutoscaler" && namespaceOf(o) === workload.namespace)
    .map((o) => asObj(o.spec))
    .filter((spec) => asObj(spec.scaleTargetRef).kind === "Deployment" && asObj(spec.scaleTargetRef).name === workload.deployment.metadata.name)
    .map((spec) => Number(spec.maxReplicas));
  const replicas = Math.max(workload.replicas, ...hpaMax);
  return replicas + surgePods(workload.deployment, replicas);
}

/** Jobs running storagesvc's image (its `migrate`): each holds up to its DB_POOL_MAX per parallel pod. */
function migrationConnections(objects: K8sObject[]): number {
  let total = 0;
  for (const job of objects.filter((o) => o.kind === "Job")) {
    const spec = asObj(job.spec);
    const parallelism = typeof spec.parallelism === "number" ? spec.parallelism : 1;
    for (const container of asObjList(asObj(asObj(spec.template).spec).containers)) {
      const { name } = splitImageRef(String(container.image));
      if (name !== SERVICES.storagesvc.image && !name.endsWith(`/${SERVICES.storagesvc.image}`)) continue;
      const env = resolveEnv(container, namespaceOf(job), objects);
      total += parallelism * (readVariable(env, "DB_POOL_MAX", storagesvcEnvVars.DB_POOL_MAX) ?? 10);
    }
  }
  return total;
}

/** The budget of this build, or undefined when it has no PostgreSQL server or no storagesvc. */
export function connectionBudget(objects: K8sObject[], all: Workload[], services: ServiceWorkload[]): (ConnectionBudget & { server: string }) | undefined {
  const server = postgresServer(all);
  const storagesvc = services.find((s) => s.service === "storagesvc");
  if (!server || !storagesvc) return undefined;
  const settings = serverSettings(server.container);
  const setting = (name: keyof typeof DEFAULTS) => Number(settings.get(name) ?? DEFAULTS[name]);
  return {
    server: objectId(server.workload.deployment),
    pods: mostPods(storagesvc.workload, objects),
    poolMax: readVariable(storagesvc.env, "DB_POOL_MAX", storagesvcEnvVars.DB_POOL_MAX) ?? 10,
    migration: migrationConnections(objects),
    reserved: setting("superuser_reserved_connections") + setting("reserved_connections"),
    maxConnections: setting("max_connections"),
  };
}

export function connectionBudgetProblems(objects: K8sObject[], all: Workload[], services: ServiceWorkload[]): string[] {
  const budget = connectionBudget(objects, all, services);
  if (!budget) return [];
  const needed = connectionsNeeded(budget);
  if (needed <= budget.maxConnections) return [];
  return [
    `${budget.server}: max_connections ${budget.maxConnections} is too small for ${needed} connections: ` +
      `${budget.pods} storagesvc pods at once (replicas or HPA maxReplicas, plus maxSurge) x DB_POOL_MAX ${budget.poolMax}, ` +
      `${budget.migration} for the migration Job, ${budget.reserved} reserved (superuser_reserved_connections + reserved_connections), ` +
      `${ADMIN_HEADROOM} for administrators`,
  ];
}
