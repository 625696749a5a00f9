// The PostgreSQL init scripts a build mounts into the postgres image (/docker-entrypoint-initdb.d)
// from a ConfigMap must be the repository's own files (deploy/postgres/initdb), which compose mounts
// and tests run: the copy inside the YAML cannot drift from what was tested.

import type { K8sObject } from "./kustomize.ts";
import { objectId } from "./kustomize.ts";
import { asObj, asObjList, findObject, type Workload } from "./objects.ts";

export const INITDB_PATH = "/docker-entrypoint-initdb.d";

/** `scripts`: file name → text of deploy/postgres/initdb. */
export function initdbProblems(objects: K8sObject[], all: Workload[], scripts: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const workload of all) {
    const volumes = asObjList(workload.podSpec.volumes);
    for (const container of workload.containers) {
      for (const mount of asObjList(container.volumeMounts).filter((m) => m.mountPath === INITDB_PATH)) {
        const volume = volumes.find((v) => v.name === mount.name);
        const configMapName = asObj(volume?.configMap).name;
        if (typeof configMapName !== "string") continue;
        const configMap = findObject(objects, "ConfigMap", workload.namespace, configMapName);
        if (!configMap) continue; // the Deployment's own rules report a missing ConfigMap
        for (const [key, text] of Object.entries(asObj(configMap.data))) {
          const file = scripts.get(key);
          if (file === undefined) problems.push(`${objectId(configMap)}: ${key} is not a file of deploy/postgres/initdb`);
          else if (file !== text) problems.push(`${objectId(configMap)}: ${key} differs from deploy/postgres/initdb/${key}: copy the file into it again`);
        }
      }
    }
  }
  return problems;
}
