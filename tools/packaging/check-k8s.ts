// Static checks of the Kubernetes manifests, runnable without a cluster or kubectl:
//   bun run check:k8s
// For deploy/k8s/base and each deploy/k8s/overlays/*:
// - builds the kustomization offline (tools/packaging/k8s/kustomize.ts: resources, namespace,
//   labels, images) and, when kubectl is on PATH, compares with `kubectl kustomize`;
// - validates each object against the Kubernetes schema (kubernetes-models);
// - checks our rules: probes on the contract's routes and the port HTTP_PORT opens,
//   Services and NetworkPolicies on real container ports, the Dockerfile's USER,
//   shutdown timing, sizing from the measured RSS, the contract's variables (and
//   their values, through the services' own config readers), PDBs, the HPA, and
//   which connections the NetworkPolicies allow and refuse, the connection budget
//   (storagesvc's most pods x DB_POOL_MAX + migration + reserved + headroom within
//   the in-build PostgreSQL's max_connections), and init scripts equal to
//   deploy/postgres/initdb.
// Prints one line per problem and sets exit code 1 when there is any.

import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseDockerfile } from "./dockerfile-rules.ts";
import { connectionBudgetProblems } from "./k8s/connection-budget.ts";
import { initdbProblems } from "./k8s/initdb-rules.ts";
import { buildKustomization, type K8sObject, KustomizeError, objectId, parseManifest } from "./k8s/kustomize.ts";
import { networkProblems } from "./k8s/network.ts";
import { workloads } from "./k8s/objects.ts";
import { validateSchema } from "./k8s/schema.ts";
import { SERVICES, type ServiceName } from "./k8s/services.ts";
import { hpaProblems, pdbProblems, serviceProblems, urlProblems } from "./k8s/wiring-rules.ts";
import { findServiceWorkloads, type ImageUser, workloadProblems } from "./k8s/workload-rules.ts";

export const K8S_DIR = "deploy/k8s";

/** The uid:gid each service's image runs as, from the last USER of its Dockerfile stage (numeric only). */
export function imageUsers(dockerfile: string): Partial<Record<ServiceName, ImageUser>> {
  const users: Partial<Record<ServiceName, ImageUser>> = {};
  for (const stage of parseDockerfile(dockerfile)) {
    if (stage.name === undefined || !(stage.name in SERVICES)) continue;
    const user = stage.instructions.filter((i) => i.getKeyword() === "USER").at(-1)?.getArgumentsContent()?.trim();
    const match = /^(\d+)(?::(\d+))?$/.exec(user ?? "");
    if (match) users[stage.name as ServiceName] = { uid: Number(match[1]), gid: match[2] === undefined ? undefined : Number(match[2]) };
  }
  return users;
}

export const INITDB_DIR = "deploy/postgres/initdb";

/** Schema and rule problems of one built kustomization; `initdbScripts`: the files of deploy/postgres/initdb. */
export function checkObjects(
  objects: K8sObject[],
  users: Partial<Record<ServiceName, ImageUser>>,
  initdbScripts: ReadonlyMap<string, string> = new Map(),
): string[] {
  const all = workloads(objects);
  const { found, problems: missing } = findServiceWorkloads(all, objects);
  return [
    ...objects.flatMap(validateSchema),
    ...missing,
    ...workloadProblems(all, found, users),
    ...serviceProblems(objects, all),
    ...pdbProblems(objects, all, found),
    ...hpaProblems(objects, all, found),
    ...urlProblems(objects, all, found),
    ...networkProblems(objects, all, found),
    ...connectionBudgetProblems(objects, all, found),
    ...initdbProblems(objects, all, initdbScripts),
  ];
}

const keyOf = (o: K8sObject): string => `${o.apiVersion} ${objectId(o)}`;

/** Differences between our build and `kubectl kustomize`'s output of the same directory. */
export function compareBuilds(ours: K8sObject[], kubectlOutput: string): string[] {
  let theirs: K8sObject[];
  try {
    theirs = parseManifest(kubectlOutput, "kubectl kustomize output");
  } catch (error) {
    return [`kubectl kustomize output does not parse: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  const count = (objects: K8sObject[]): string => {
    const byKind = new Map<string, number>();
    for (const o of objects) byKind.set(o.kind, (byKind.get(o.kind) ?? 0) + 1);
    return [...byKind].sort().map(([kind, n]) => `${n} ${kind}`).join(", ");
  };
  if (count(ours) !== count(theirs)) problems.push(`kubectl kustomize builds ${count(theirs)}; the offline build has ${count(ours)}`);
  const theirsByKey = new Map(theirs.map((o) => [keyOf(o), o]));
  const oursByKey = new Map(ours.map((o) => [keyOf(o), o]));
  for (const [key, object] of oursByKey) {
    const other = theirsByKey.get(key);
    if (!other) problems.push(`${key}: only in the offline build`);
    else if (!Bun.deepEquals(object, other)) problems.push(`${key}: differs from kubectl kustomize's (the offline build does not implement something this kustomization uses)`);
  }
  for (const key of theirsByKey.keys()) if (!oursByKey.has(key)) problems.push(`${key}: only in kubectl kustomize's build`);
  return problems;
}

async function kubectlKustomize(kubectl: string, dir: string): Promise<{ output: string } | { error: string }> {
  const child = Bun.spawn([kubectl, "kustomize", dir], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  const [output, errors, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return code === 0 ? { output } : { error: `kubectl kustomize ${dir} exited ${code}: ${errors.trim()}` };
}

/** base, then every overlay that has a kustomization. */
export async function kustomizationDirs(root: string): Promise<string[]> {
  const overlays = join(root, K8S_DIR, "overlays");
  const entries = await readdir(overlays, { withFileTypes: true }).catch(() => []);
  const dirs = [join(root, K8S_DIR, "base")];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory() && (await Bun.file(join(overlays, entry.name, "kustomization.yaml")).exists())) {
      dirs.push(join(overlays, entry.name));
    }
  }
  return dirs;
}

export interface CheckOptions {
  /** Path of a kubectl to compare builds with; undefined skips the comparison. */
  kubectl: string | undefined;
}

export interface CheckResult {
  problems: string[];
  /** Objects per kustomization, for the summary line. */
  built: { dir: string; objects: number }[];
  comparedWithKubectl: boolean;
}

/** Every problem of the manifests under `root`/deploy/k8s, each prefixed with its kustomization. */
export async function checkK8s(root: string, options: CheckOptions): Promise<CheckResult> {
  const users = imageUsers(await Bun.file(join(root, "Dockerfile")).text());
  const initdbScripts = new Map<string, string>();
  for (const name of await readdir(join(root, INITDB_DIR)).catch(() => [])) {
    initdbScripts.set(name, await Bun.file(join(root, INITDB_DIR, name)).text());
  }
  const problems: string[] = [];
  const built: CheckResult["built"] = [];
  for (const service of Object.keys(SERVICES) as ServiceName[]) {
    if (!users[service]) problems.push(`Dockerfile: the ${service} stage needs a numeric USER uid:gid for runAsUser to be checked against`);
  }
  for (const dir of await kustomizationDirs(root)) {
    const name = relative(join(root, K8S_DIR), dir);
    let objects: K8sObject[];
    try {
      objects = await buildKustomization(dir, join(root, K8S_DIR));
    } catch (error) {
      if (!(error instanceof KustomizeError)) throw error;
      problems.push(`${name}: ${error.message}`);
      continue;
    }
    built.push({ dir: name, objects: objects.length });
    problems.push(...checkObjects(objects, users, initdbScripts).map((p) => `${name}: ${p}`));
    if (options.kubectl !== undefined) {
      const result = await kubectlKustomize(options.kubectl, dir);
      const found = "error" in result ? [result.error] : compareBuilds(objects, result.output);
      problems.push(...found.map((p) => `${name}: ${p}`));
    }
  }
  return { problems, built, comparedWithKubectl: options.kubectl !== undefined };
}

if (import.meta.main) {
  const root = join(import.meta.dir, "..", "..");
  const kubectl = Bun.which("kubectl") ?? undefined;
  const { problems, built, comparedWithKubectl } = await checkK8s(root, { kubectl });
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`k8s: ${problems.length} problem(s)`);
    process.exitCode = 1;
  } else {
    const summary = built.map((b) => `${b.dir} (${b.objects} objects)`).join(", ");
    const kubectlNote = comparedWithKubectl ? "same objects as kubectl kustomize" : "kubectl not on PATH: builds not compared";
    console.log(`k8s: ${summary} pass; ${kubectlNote}`);
  }
}
