import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { booksvcEnvVars } from "../../internal/booksvc/config.ts";
import type { EnvVar } from "../../internal/config/env.ts";
import { storagesvcEnvVars } from "../../internal/storagesvc/config.ts";
import { generatedDocs } from "./generated.ts";
import { runScript } from "../kit/run-script.ts";

const ROOT = join(import.meta.dir, "..", "..");
const read = (path: string): Promise<string> => Bun.file(join(ROOT, path)).text();
const { version } = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
const docs = generatedDocs(version);

describe("docs/ is generated from the code", () => {
  // When one of these fails, run `bun run docs` and commit what it writes.
  test.each(docs.map((doc) => [doc.path, doc] as const))("%s is what `bun run docs` writes", async (path, doc) => {
    expect(await read(path)).toBe(doc.render());
  });
});

describe("bun run docs", () => {
  test("refuses an unknown option (a mistyped --check) with exit 2, and writes nothing", async () => {
    const before = await Promise.all(generatedDocs(version).map((doc) => read(doc.path)));
    const run = await runScript("tools/docs.ts", ["--chek"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--chek'");
    expect(run.stdout).not.toContain("wrote");
    expect(await Promise.all(generatedDocs(version).map((doc) => read(doc.path)))).toEqual(before);
  });
});

describe("the OpenAPI documents", () => {
  test.each(["docs/openapi/booksvc.yaml", "docs/openapi/storagesvc.yaml"])("%s is valid OpenAPI 3.1", async (path) => {
    const validator = new Validator();
    const result = await validator.validate(await read(path));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });
});

describe("docs/configuration.md", () => {
  const services: Record<string, Readonly<Record<string, EnvVar<unknown>>>> = { storagesvc: storagesvcEnvVars, booksvc: booksvcEnvVars };

  /** The rows of the section `## <service>`: variable name → [default, accepts]. */
  function rowsOf(markdown: string, service: string): Map<string, [string, string]> {
    const section = markdown.split(/^## /m).find((s) => s.startsWith(`${service}\n`)) ?? "";
    const rows = new Map<string, [string, string]>();
    for (const line of section.split("\n")) {
      const cells = /^\| `(\w+)` \| (.*?) \| (.*?) \| /.exec(line);
      if (cells) rows.set(cells[1]!, [cells[2]!, cells[3]!]);
    }
    return rows;
  }

  test.each(Object.keys(services))("has one row per variable %s reads, with its default and what it accepts", async (service) => {
    const rows = rowsOf(await read("docs/configuration.md"), service);
    const variables = services[service]!;
    expect([...rows.keys()]).toEqual(Object.keys(variables));
    for (const [name, reader] of Object.entries(variables)) {
      expect(rows.get(name)).toEqual([reader.fallback === undefined ? "unset" : `\`${reader.fallback}\``, reader.accepts]);
    }
  });

  test("no variable's accepts text repeats its default (the reference shows it in its own column)", () => {
    for (const variables of Object.values(services)) {
      for (const [name, reader] of Object.entries(variables)) expect(`${name}: ${reader.accepts}`).not.toContain("(default");
    }
  });
});

describe("the repository stands on its own", () => {
  test("no tracked file points at the shared folder beside the repository", async () => {
    // Built from parts so that this file does not match itself.
    const outside = ["..", "/shared/"].join("");
    const found = await Bun.$`git grep -l -F ${outside}`.cwd(ROOT).nothrow().quiet();
    expect(found.stdout.toString()).toBe("");
  });
});
