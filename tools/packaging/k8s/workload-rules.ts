// Rules for the pods of every Deployment (Pod Security "restricted", requests
// within limits) and, stricter, for booksvc and storagesvc: the contract's
// variables and routes, the image's user, shutdown timing, sizing, rollout, spread.

import { ConfigError } from "../../../internal/config/env.ts";
import { type EnvVarSource, knownValues, type ResolvedEnv, readVariable, resolveEnv } from "./env.ts";
import { splitImageRef } from "../shapes.ts";
import type { K8sObject } from "./kustomize.ts";
import { asList, asObj, asObjList, MiB, type Obj, parseQuantity, resolvePort, selectorMatches, type Workload } from "./objects.ts";
import {
  CACHE_BYTES_PER_BODY_BYTE,
  EXIT_MARGIN_S,
  IN_FLIGHT_DRAIN_S,
  PROBE_ROUTES,
  SERVICES,
  type ServiceName,
} from "./services.ts";

/** The uid and gid a service's image runs as (the Dockerfile's USER). */
export type ImageUser = { uid: number; gid: number | undefined };

/** One of our services as deployed: its Deployment, its container and what it will read. */
export interface ServiceWorkload {
  service: ServiceName;
  workload: Workload;
  container: Obj;
  env: ResolvedEnv;
  /** The port it listens on: HTTP_PORT as the service reads it (its default when unset); NaN when the service would refuse it. */
  port: number;
}

const at = (w: Workload, container?: Obj): string =>
  container === undefined ? w.id : `${w.id}: container ${String(container.name)}`;

/** Our services among the Deployments, found by image; each must be there exactly once. */
export function findServiceWorkloads(all: Workload[], objects: K8sObject[]): { found: ServiceWorkload[]; problems: string[] } {
  const found: ServiceWorkload[] = [];
  const problems: string[] = [];
  for (const [service, facts] of Object.entries(SERVICES) as [ServiceName, (typeof SERVICES)[ServiceName]][]) {
    const matches = all.flatMap((workload) =>
      workload.containers
        .filter((c) => {
          const name = splitImageRef(String(c.image)).name;
          return name === facts.image || name.endsWith(`/${facts.image}`);
        })
        .map((container) => ({ workload, container })),
    );
    if (matches.length === 0) problems.push(`no Deployment runs ${facts.image}`);
    if (matches.length > 1) problems.push(`${facts.image} runs in ${matches.length} containers (${matches.map((m) => m.workload.id).join(", ")}); expected one Deployment`);
    for (const { workload, container } of matches.slice(0, 1)) {
      const env = resolveEnv(container, workload.namespace, objects);
      const port = readVariable(env, "HTTP_PORT", facts.envVars.HTTP_PORT)?.port ?? NaN;
      found.push({ service, workload, container, env, port });
    }
  }
  return { found, problems };
}

function envProblems(s: ServiceWorkload): string[] {
  const where = at(s.workload, s.container);
  const facts = SERVICES[s.service];
  const problems = s.env.problems.map((p) => `${where}: ${p}`);
  for (const [name, source] of s.env.vars) {
    if (!Object.hasOwn(facts.envVars, name)) {
      problems.push(`${where}: sets ${name} (${describe(source)}), which is not one of ${s.service}'s variables in the contract`);
    }
  }
  try {
    facts.readConfig(knownValues(s.env));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const line of error.problems) problems.push(`${where}: ${s.service} would refuse to start: ${line}`);
  }
  // The contract's defaults point at localhost, which is the pod itself here.
  const required = s.service === "booksvc" ? "STORAGESVC_URL" : "DATABASE_URL";
  if (!s.env.vars.has(required)) problems.push(`${where}: ${required} is not set; its default points at localhost, the pod itself`);
  return problems;
}

const describe = (source: EnvVarSource): string => (source.from === "literal" ? "a literal value" : `from ${source.from}`);

function probeProblems(s: ServiceWorkload): string[] {
  const where = at(s.workload, s.container);
  const problems: string[] = [];
  const why: Record<keyof typeof PROBE_ROUTES, string> = {
    readiness: "it is the route that turns 503 on SIGTERM and when the service cannot serve",
    liveness: "a liveness failure restarts the pod, and /readyz fails during outages the service rides out",
    startup: "the service starts while its dependencies are down; /readyz would restart it in a loop",
  };
  for (const kind of Object.keys(PROBE_ROUTES) as (keyof typeof PROBE_ROUTES)[]) {
    const probe = s.container[`${kind}Probe`];
    if (!probe) {
      problems.push(`${where}: no ${kind}Probe`);
      continue;
    }
    const httpGet = asObj(asObj(probe).httpGet);
    if (Object.keys(httpGet).length === 0) {
      problems.push(`${where}: ${kind}Probe must be an httpGet on ${PROBE_ROUTES[kind]} (the image has no shell)`);
      continue;
    }
    if (httpGet.path !== PROBE_ROUTES[kind]) {
      problems.push(`${where}: ${kind}Probe checks ${String(httpGet.path ?? "/")}, expected ${PROBE_ROUTES[kind]}: ${why[kind]}`);
    }
    if (httpGet.scheme !== undefined && httpGet.scheme !== "HTTP") problems.push(`${where}: ${kind}Probe uses ${String(httpGet.scheme)}; the services speak plain HTTP`);
    const port = resolvePort(httpGet.port, [s.container]);
    if (port === undefined) {
      problems.push(`${where}: ${kind}Probe port ${String(httpGet.port)} is not a containerPort of the container`);
    } else if (port !== s.port) {
      problems.push(`${where}: ${kind}Probe port ${String(httpGet.port)} is ${port}, but HTTP_PORT makes ${s.service} listen on ${s.port}`);
    }
  }
  if (resolvePort(s.port, [s.container]) === undefined) {
    problems.push(`${where}: no containerPort ${s.port}, the port HTTP_PORT makes ${s.service} listen on`);
  }
  return problems;
}

type Effective = { pod: Obj; container: Obj; merged: Obj };

function securityOf(w: Workload, container: Obj): Effective {
  const pod = asObj(w.podSpec.securityContext);
  const own = asObj(container.securityContext);
  return { pod, container: own, merged: { ...pod, ...own } };
}

/** Pod Security Standard "restricted" (the namespace enforces it): what would make the API server refuse the pod. */
export function restrictedProblems(w: Workload): string[] {
  const problems: string[] = [];
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (w.podSpec[field] === true) problems.push(`${w.id}: ${field} is not allowed under Pod Security "restricted"`);
  }
  for (const volume of asObjList(w.podSpec.volumes)) {
    if (volume.hostPath !== undefined) problems.push(`${w.id}: volume ${String(volume.name)} is a hostPath, not allowed under "restricted"`);
  }
  for (const container of [...w.containers, ...asObjList(w.podSpec.initContainers)]) {
    const where = at(w, container);
    const { merged, container: own } = securityOf(w, container);
    if (merged.runAsNonRoot !== true) problems.push(`${where}: securityContext.runAsNonRoot must be true`);
    if (merged.runAsUser === 0) problems.push(`${where}: runAsUser 0 is root`);
    if (own.privileged === true) problems.push(`${where}: privileged containers are not allowed`);
    if (own.allowPrivilegeEscalation !== false) problems.push(`${where}: securityContext.allowPrivilegeEscalation must be false`);
    const capabilities = asObj(own.capabilities);
    if (!asList(capabilities.drop).includes("ALL")) problems.push(`${where}: securityContext.capabilities.drop must include ALL`);
    const added = asList(capabilities.add).filter((c) => c !== "NET_BIND_SERVICE");
    if (added.length > 0) problems.push(`${where}: capabilities.add ${added.join(", ")} is not allowed`);
    const seccomp = asObj(merged.seccompProfile).type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      problems.push(`${where}: seccompProfile.type must be RuntimeDefault (pod or container securityContext)`);
    }
    for (const port of asObjList(container.ports)) {
      if (port.hostPort !== undefined) problems.push(`${where}: hostPort ${String(port.hostPort)} is not allowed`);
    }
  }
  return problems;
}

function imageUserProblems(s: ServiceWorkload, user: ImageUser | undefined): string[] {
  const where = at(s.workload, s.container);
  const { merged, container } = securityOf(s.workload, s.container);
  const problems: string[] = [];
  if (user === undefined) return [`${where}: the Dockerfile's ${s.service} stage has no numeric USER to compare with`];
  if (merged.runAsUser !== user.uid) {
    problems.push(`${where}: runAsUser is ${String(merged.runAsUser)}, the image's USER is ${user.uid} (Dockerfile)`);
  }
  if (user.gid !== undefined && merged.runAsGroup !== user.gid) {
    problems.push(`${where}: runAsGroup is ${String(merged.runAsGroup)}, the image's USER group is ${user.gid} (Dockerfile)`);
  }
  if (container.readOnlyRootFilesystem !== true) {
    problems.push(`${where}: securityContext.readOnlyRootFilesystem must be true (the image holds one binary and writes nothing)`);
  }
  if (asObj(merged.seccompProfile).type !== "RuntimeDefault") problems.push(`${where}: seccompProfile.type must be RuntimeDefault`);
  return problems;
}

function shutdownProblems(s: ServiceWorkload): string[] {
  const delayMs = readVariable(s.env, "SHUTDOWN_DELAY_MS", SERVICES[s.service].envVars.SHUTDOWN_DELAY_MS);
  if (delayMs === undefined) return []; // reported by the service's config reader
  const grace = typeof s.workload.podSpec.terminationGracePeriodSeconds === "number" ? s.workload.podSpec.terminationGracePeriodSeconds : 30;
  const needed = Math.ceil(delayMs / 1000) + IN_FLIGHT_DRAIN_S + EXIT_MARGIN_S;
  const problems: string[] = [];
  if (grace < needed) {
    problems.push(
      `${s.workload.id}: terminationGracePeriodSeconds ${grace} is less than SHUTDOWN_DELAY_MS ${delayMs} ms + ${IN_FLIGHT_DRAIN_S} s in-flight drain + ${EXIT_MARGIN_S} s margin = ${needed} s: the kubelet would SIGKILL requests still being answered`,
    );
  }
  if (delayMs === 0) {
    problems.push(`${s.workload.id}: SHUTDOWN_DELAY_MS is 0: the pod stops accepting before endpoints and proxies stop sending to it`);
  }
  if (s.service === "booksvc") {
    const requestMs = readVariable(s.env, "REQUEST_TIMEOUT_MS", SERVICES.booksvc.envVars.REQUEST_TIMEOUT_MS);
    if (requestMs !== undefined && requestMs > IN_FLIGHT_DRAIN_S * 1000) {
      problems.push(`${s.workload.id}: REQUEST_TIMEOUT_MS ${requestMs} exceeds the ${IN_FLIGHT_DRAIN_S} s in-flight drain: a rollout would cut requests still within their deadline`);
    }
  }
  return problems;
}

/** Requests within limits, for every container of every Deployment. */
export function resourceProblems(w: Workload): string[] {
  const problems: string[] = [];
  for (const container of w.containers) {
    const where = at(w, container);
    const resources = asObj(container.resources);
    const requests = asObj(resources.requests);
    const limits = asObj(resources.limits);
    for (const name of new Set([...Object.keys(requests), ...Object.keys(limits)])) {
      const request = parseQuantity(requests[name]);
      const limit = parseQuantity(limits[name]);
      if (requests[name] !== undefined && request === undefined) problems.push(`${where}: request ${name} ${String(requests[name])} is not a quantity`);
      if (limits[name] !== undefined && limit === undefined) problems.push(`${where}: limit ${name} ${String(limits[name])} is not a quantity`);
      if (request !== undefined && limit !== undefined && request > limit) {
        problems.push(`${where}: request ${name} ${String(requests[name])} is above its limit ${String(limits[name])}`);
      }
    }
  }
  return problems;
}

function sizingProblems(s: ServiceWorkload): string[] {
  const where = at(s.workload, s.container);
  const resources = asObj(s.container.resources);
  const problems: string[] = [];
  for (const kind of ["requests", "limits"] as const) {
    for (const name of ["cpu", "memory"]) {
      if (asObj(resources[kind])[name] === undefined) problems.push(`${where}: resources.${kind}.${name} is not set`);
    }
  }
  const { loadedRssMiB } = SERVICES[s.service];
  const memoryRequest = parseQuantity(asObj(resources.requests).memory);
  if (memoryRequest !== undefined && memoryRequest < loadedRssMiB * MiB) {
    problems.push(`${where}: memory request ${String(asObj(resources.requests).memory)} is below the ${loadedRssMiB} MiB ${s.service} uses under load (bun run bench, docs/performance.md)`);
  }
  const memoryLimit = parseQuantity(asObj(resources.limits).memory);
  if (s.service === "booksvc" && memoryLimit !== undefined) {
    const pages = readVariable(s.env, "CACHE_MAX_PAGES", SERVICES.booksvc.envVars.CACHE_MAX_PAGES);
    const body = readVariable(s.env, "UPSTREAM_MAX_BODY_BYTES", SERVICES.booksvc.envVars.UPSTREAM_MAX_BODY_BYTES);
    // A value booksvc would refuse is reported by its config reader; the cache's size is then unknown.
    const needed = pages === undefined || body === undefined ? undefined : loadedRssMiB * MiB + pages * body * CACHE_BYTES_PER_BODY_BYTE;
    if (needed !== undefined && memoryLimit < needed) {
      problems.push(
        `${where}: memory limit ${String(asObj(resources.limits).memory)} is below ${Math.ceil(needed / MiB)} MiB: ${loadedRssMiB} MiB under load + CACHE_MAX_PAGES ${pages} x UPSTREAM_MAX_BODY_BYTES ${body} x ${CACHE_BYTES_PER_BODY_BYTE} bytes per character for the in-memory cache`,
      );
    }
  }
  return problems;
}

const isZero = (v: unknown): boolean => v === 0 || v === "0" || v === "0%";

function rolloutProblems(s: ServiceWorkload): string[] {
  const w = s.workload;
  const spec = asObj(w.deployment.spec);
  const strategy = asObj(spec.strategy);
  const rolling = asObj(strategy.rollingUpdate);
  const problems: string[] = [];
  if (strategy.type !== undefined && strategy.type !== "RollingUpdate") problems.push(`${w.id}: strategy ${String(strategy.type)}: use RollingUpdate`);
  if (!isZero(rolling.maxUnavailable)) problems.push(`${w.id}: rollingUpdate.maxUnavailable must be 0: no capacity lost during a rollout`);
  if (rolling.maxSurge === undefined || isZero(rolling.maxSurge)) problems.push(`${w.id}: rollingUpdate.maxSurge must be at least 1 (with maxUnavailable 0)`);
  if (w.replicas < 2) problems.push(`${w.id}: ${w.replicas} replica: one node drain or crash takes ${s.service} away`);
  const image = splitImageRef(String(s.container.image));
  if (image.digest === undefined && (image.tag === undefined || image.tag === "latest")) {
    problems.push(`${at(w, s.container)}: image ${String(s.container.image)} has no fixed tag: set one in the kustomization's images`);
  }
  const spread = asObjList(w.podSpec.topologySpreadConstraints);
  for (const [key, mode] of [["kubernetes.io/hostname", undefined], ["topology.kubernetes.io/zone", "ScheduleAnyway"]] as const) {
    const constraint = spread.find((c) => c.topologyKey === key);
    if (!constraint) {
      problems.push(`${w.id}: no topologySpreadConstraint on ${key}`);
    } else if (!selectorMatches(constraint.labelSelector, w.podLabels)) {
      problems.push(`${w.id}: the topologySpreadConstraint on ${key} does not select the Deployment's own pods`);
    } else if (mode !== undefined && constraint.whenUnsatisfiable !== mode) {
      problems.push(`${w.id}: the spread over ${key} must be ${mode}: a cluster without zones must still schedule`);
    }
  }
  return problems;
}

/** Every rule on Deployments. */
export function workloadProblems(
  all: Workload[],
  services: ServiceWorkload[],
  imageUsers: Partial<Record<ServiceName, ImageUser>>,
): string[] {
  return [
    ...all.flatMap((w) => [...restrictedProblems(w), ...resourceProblems(w)]),
    ...services.flatMap((s) => [
      ...envProblems(s),
      ...probeProblems(s),
      ...imageUserProblems(s, imageUsers[s.service]),
      ...shutdownProblems(s),
      ...sizingProblems(s),
      ...rolloutProblems(s),
    ]),
  ];
}
