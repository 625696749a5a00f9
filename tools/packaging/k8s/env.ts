// The environment a container will see, resolved from the build: literal values,
// ConfigMaps and Secrets that are in it, and Secrets that are not (created out of
// band, as the base expects for its credentials: the value is then unknown).

import { ConfigError, type EnvVar, readEnv } from "../../../internal/config/env.ts";
import { isObj } from "../shapes.ts";
import type { K8sObject } from "./kustomize.ts";
import { asObj, asObjList, findObject, type Obj } from "./objects.ts";

export interface EnvVarSource {
  /** undefined when the value lives outside the build (a Secret created by hand, a fieldRef). */
  value: string | undefined;
  /** Where it comes from, for messages: `ConfigMap booksvc-config`, `Secret bookstore-secrets`, `literal`. */
  from: string;
}

export interface ResolvedEnv {
  vars: Map<string, EnvVarSource>;
  problems: string[];
}

function dataOf(object: K8sObject): Record<string, string> {
  const data: Record<string, string> = {};
  const binary = object.kind === "Secret";
  for (const [key, value] of Object.entries(asObj(object.data))) {
    data[key] = binary ? Buffer.from(String(value), "base64").toString("utf8") : String(value);
  }
  for (const [key, value] of Object.entries(asObj(object.stringData))) data[key] = String(value);
  return data;
}

/** What `container` (in `namespace`) gets from `envFrom` and then `env`, which wins, as the kubelet does. */
export function resolveEnv(container: Obj, namespace: string, objects: K8sObject[]): ResolvedEnv {
  const vars = new Map<string, EnvVarSource>();
  const problems: string[] = [];

  for (const source of asObjList(container.envFrom)) {
    const prefix = typeof source.prefix === "string" ? source.prefix : "";
    for (const kind of ["ConfigMap", "Secret"] as const) {
      const ref = kind === "ConfigMap" ? source.configMapRef : source.secretRef;
      if (!isObj(ref)) continue;
      const name = String(ref.name);
      const object = findObject(objects, kind, namespace, name);
      if (!object) {
        if (ref.optional !== true) {
          problems.push(
            `envFrom ${kind} ${name} is not in this build: the variables it sets cannot be checked` +
              (kind === "Secret" ? "; reference its keys one by one with secretKeyRef" : ""),
          );
        }
        continue;
      }
      for (const [key, value] of Object.entries(dataOf(object))) vars.set(`${prefix}${key}`, { value, from: `${kind} ${name}` });
    }
  }

  for (const entry of asObjList(container.env)) {
    const name = String(entry.name);
    if (entry.value !== undefined) {
      vars.set(name, { value: String(entry.value), from: "literal" });
      continue;
    }
    const valueFrom = asObj(entry.valueFrom);
    const configMapKey = asObj(valueFrom.configMapKeyRef);
    const secretKey = asObj(valueFrom.secretKeyRef);
    const [kind, ref] = valueFrom.configMapKeyRef ? (["ConfigMap", configMapKey] as const) : (["Secret", secretKey] as const);
    if (!valueFrom.configMapKeyRef && !valueFrom.secretKeyRef) {
      vars.set(name, { value: undefined, from: Object.keys(valueFrom)[0] ?? "valueFrom" });
      continue;
    }
    const object = findObject(objects, kind, namespace, String(ref.name));
    const from = `${kind} ${String(ref.name)}`;
    if (!object) {
      // A Secret created out of band is the base's design; a missing ConfigMap is a mistake.
      if (kind === "ConfigMap" && ref.optional !== true) problems.push(`${name}: ${from} is not in this build`);
      vars.set(name, { value: undefined, from });
      continue;
    }
    const value = dataOf(object)[String(ref.key)];
    if (value === undefined && ref.optional !== true) problems.push(`${name}: ${from} has no key ${String(ref.key)}`);
    vars.set(name, { value, from });
  }
  return { vars, problems };
}

/** The known values, as the services' config readers take them. */
export const knownValues = (env: ResolvedEnv): Record<string, string | undefined> =>
  Object.fromEntries([...env.vars].map(([name, source]) => [name, source.value]));

/**
 * `name` as the service reads it with `reader` (its own): the value, or the default when unset or
 * set from outside the build; `undefined` when the service would refuse it, which its config
 * reader reports.
 */
export function readVariable<T>(env: ResolvedEnv, name: string, reader: EnvVar<T>): T | undefined {
  try {
    return readEnv({ [name]: env.vars.get(name)?.value }, { [name]: reader })[name];
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}
