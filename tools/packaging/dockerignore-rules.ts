import ignore from "@balena/dockerignore";

/** The build context's filter: @balena/dockerignore, a port of Docker's own .dockerignore matching. */
export function dockerignoreFilter(text: string): { ignores(path: string): boolean } {
  return ignore().add(text);
}

/** Problems with .dockerignore, given the files the build stage COPYs by name. */
export function checkDockerignore(text: string, copiedFiles: string[]): string[] {
  const filter = dockerignoreFilter(text);
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
    if (!filter.ignores(path)) problems.push(`.dockerignore: ${path} would be sent to the build context`);
  }
  const mustInclude = [...copiedFiles, "cmd/booksvc/main.ts", "cmd/storagesvc/main.ts", "tools/build.ts", "tools/kit/compile.ts"];
  for (const path of mustInclude) {
    if (filter.ignores(path)) problems.push(`.dockerignore: ${path} is needed by the build but ignored`);
  }
  return problems;
}
