// The Dockerfile's rules: syntax (dockerfile-utils), then what we hold our images to (pinned
// bases, the project's Bun version, binary-only distroless finals, non-root, exec-form
// ENTRYPOINT and HEALTHCHECK, EXPOSE). Parsing is dockerfile-ast's.

import { Cmd, Copy, DockerfileParser, Entrypoint, Env, type From, Healthcheck, type Instruction, type JSONInstruction } from "dockerfile-ast";
import { validate as validateDockerfileSyntax } from "dockerfile-utils";

/** A build stage as dockerfile-ast reads it: its FROM, and the instructions after it. */
export type Stage = { from: From; image: string; name: string | undefined; line: number; instructions: Instruction[] };

/** The services the Dockerfile builds, with the port each listens on. */
export const SERVICES = { storagesvc: 8082, booksvc: 8081 } as const;
type ServiceName = keyof typeof SERVICES;

/** The Dockerfile's stages, parsed by dockerfile-ast (continuations, comments, flags, JSON form). */
export function parseDockerfile(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  return dockerfile.getFROMs().map((from) => ({
    from,
    image: from.getImage() ?? "",
    name: from.getBuildStage() ?? undefined,
    line: lineOf(from),
    instructions: (dockerfile.getContainingImage(from.getRange().start)?.getInstructions() ?? []).filter((i) => i !== from),
  }));
}

/** 1-based, as editors and our messages count lines. */
const lineOf = (instruction: Instruction): number => instruction.getRange().start.line + 1;

/** An instruction's arguments, flags (`--from=...`) left out. */
const words = (instruction: Instruction): string[] => instruction.getArguments().map((a) => a.getValue());

/** The exec (JSON array) form of CMD, ENTRYPOINT or COPY, or undefined for shell form. */
function execArgv(instruction: JSONInstruction): string[] | undefined {
  if (instruction.getOpeningBracket() === null || instruction.getClosingBracket() === null) return undefined;
  return instruction.getJSONStrings().map((s) => s.getJSONValue());
}

/**
 * The exec form of `HEALTHCHECK [flags] CMD [...]`, or undefined for shell form or NONE.
 * dockerfile-ast reads the subcommand but not its JSON array; Docker reads that array as JSON.
 */
function healthcheckArgv(healthcheck: Healthcheck): string[] | undefined {
  const content = healthcheck.getArgumentsContent() ?? "";
  const command = /^CMD\s+(.*)$/is.exec(content.trim())?.[1];
  if (command === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(command);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
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
    const tag = stage.from.getImageTag();
    if (tag === null && stage.from.getImageDigest() === null) {
      problems.push(`Dockerfile:${stage.line}: base image ${stage.image} has no tag: pin it`);
    } else if (tag === "latest") {
      problems.push(`Dockerfile:${stage.line}: base image ${stage.image} uses "latest": pin a version`);
    }
    for (const ins of stage.instructions) {
      if (ins.getKeyword() === "ADD") {
        problems.push(`Dockerfile:${lineOf(ins)}: use COPY instead of ADD`);
      }
      if (ins.getKeyword() === "MAINTAINER") {
        problems.push(`Dockerfile:${lineOf(ins)}: MAINTAINER is deprecated: use a LABEL`);
      }
    }
  }

  const build = stages.find((s) => s.name === "build");
  if (!build) {
    problems.push(`Dockerfile: no stage named "build"`);
  } else {
    const registry = build.from.getRegistry();
    if (build.from.getImageName() !== "oven/bun" || (registry !== null && registry !== "docker.io")) {
      problems.push(`Dockerfile:${build.line}: the build stage must use the official Bun image (oven/bun), not ${build.image}`);
    }
    const tag = build.from.getImageTag();
    if (tag === null || !(tag === bunVersion || tag.startsWith(`${bunVersion}-`))) {
      problems.push(`Dockerfile:${build.line}: the build stage must pin Bun ${bunVersion} (package.json), found ${build.image}`);
    }
    const runs = build.instructions.filter((i) => i.getKeyword() === "RUN").map((i) => words(i).join(" "));
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
  const of = (keyword: string): Instruction[] => stage.instructions.filter((i) => i.getKeyword() === keyword);
  const ofType = <I extends Instruction>(type: abstract new (...args: never[]) => I): I[] =>
    stage.instructions.filter((i): i is I => i instanceof type);

  for (const run of of("RUN")) {
    problems.push(`${at(lineOf(run))}: RUN in a final stage: distroless has no shell; do the work in the build stage`);
  }
  const copies = ofType(Copy);
  if (copies.length !== 1) {
    problems.push(`${at(stage.line)}: the image must hold only its binary: expected one COPY, found ${copies.length}`);
  }
  let binaryPath: string | undefined;
  for (const copy of copies) {
    const paths = execArgv(copy) ?? words(copy);
    if (copy.getFromFlag()?.getValue() !== "build" || paths.length !== 2 || !paths[0]!.endsWith(`/dist/${service}`)) {
      problems.push(`${at(lineOf(copy))}: expected "COPY --from=build <dir>/dist/${service} <path>", found "${copy.toString()}"`);
    } else {
      binaryPath = paths[1]!.endsWith("/") ? `${paths[1]}${service}` : paths[1];
    }
  }

  const users = of("USER");
  const lastUser = users.at(-1);
  const user = lastUser === undefined ? undefined : (words(lastUser)[0] ?? "").split(":")[0];
  if (lastUser === undefined || user === undefined) {
    problems.push(`${at(stage.line)}: no USER: the process must not run as root`);
  } else if (user === "root" || user === "0") {
    problems.push(`${at(lineOf(lastUser))}: USER ${user}: the process must not run as root`);
  }

  const entrypoint = ofType(Entrypoint).at(-1);
  const entryArgs = entrypoint ? execArgv(entrypoint) : undefined;
  if (!entrypoint) {
    problems.push(`${at(stage.line)}: no ENTRYPOINT`);
  } else if (!entryArgs) {
    problems.push(`${at(lineOf(entrypoint))}: ENTRYPOINT must be exec form (JSON array) so the binary receives SIGTERM`);
  } else if (binaryPath !== undefined && entryArgs[0] !== binaryPath) {
    problems.push(`${at(lineOf(entrypoint))}: ENTRYPOINT runs ${entryArgs[0]}, but the binary is copied to ${binaryPath}`);
  }
  for (const cmd of ofType(Cmd)) {
    if (!execArgv(cmd)) problems.push(`${at(lineOf(cmd))}: CMD must be exec form (JSON array)`);
  }

  const exposed = of("EXPOSE").flatMap(words).map((p) => p.split("/")[0]);
  if (!exposed.includes(String(port))) {
    problems.push(`${at(stage.line)}: EXPOSE ${port} is missing`);
  }
  for (const env of ofType(Env)) {
    const httpPort = env.getProperties().find((p) => p.getName() === "HTTP_PORT")?.getValue();
    if (httpPort != null && httpPort.replace(/^:/, "") !== String(port)) {
      problems.push(`${at(lineOf(env))}: ENV HTTP_PORT=${httpPort} does not match EXPOSE ${port}`);
    }
  }

  const healthcheck = ofType(Healthcheck).at(-1);
  if (!healthcheck) {
    problems.push(`${at(stage.line)}: no HEALTHCHECK`);
  } else {
    const argv = healthcheckArgv(healthcheck);
    if (!argv) {
      problems.push(`${at(lineOf(healthcheck))}: HEALTHCHECK must be "CMD [...]" in exec form: the image has no shell`);
    } else if (binaryPath !== undefined && (argv[0] !== binaryPath || argv[1] !== "healthcheck")) {
      problems.push(`${at(lineOf(healthcheck))}: HEALTHCHECK must run "${binaryPath} healthcheck", found ${JSON.stringify(argv)}`);
    }
  }
  return problems;
}

/** Files the build stage copies by name (not directories like "."). */
export function copiedByName(stages: Stage[]): string[] {
  const build = stages.find((s) => s.name === "build");
  if (!build) return [];
  return build.instructions
    .filter((i): i is Copy => i instanceof Copy && i.getFromFlag() === null)
    .flatMap((copy) => (execArgv(copy) ?? words(copy)).slice(0, -1))
    .filter((p) => p !== "." && !p.endsWith("/"));
}
