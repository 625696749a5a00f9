// internal/ is laid out as Go packages: one folder each. As in Go, the packages' imports must form
// no cycle (type-only imports included), so each package can be read, tested and reused on its own.
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { dirname, join, relative } from "node:path";

const INTERNAL = import.meta.dir;
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+["'](\.{1,2}\/[^"']+)["']/gm;

/** Package (folder under internal/) → the packages its non-test files import. */
async function packageImports(): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  for await (const file of new Glob("*/**/*.ts").scan(INTERNAL)) {
    if (file.endsWith(".test.ts")) continue;
    const from = file.split("/")[0]!;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    const text = await Bun.file(join(INTERNAL, file)).text();
    for (const [, spec] of text.matchAll(IMPORT)) {
      const target = relative(INTERNAL, join(INTERNAL, dirname(file), spec!)).split("/")[0]!;
      if (target !== from && !target.startsWith("..")) edges.add(target);
    }
  }
  return graph;
}

/** The first cycle found, as a path `a → b → a`; undefined when there is none. */
export function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe("internal/ packages", () => {
  test("import one another without a cycle, type-only imports included", async () => {
    const graph = await packageImports();
    expect(graph.size).toBeGreaterThan(5);
    expect(findCycle(graph)?.join(" → ")).toBeUndefined();
  });

  test("the cycle check finds a cycle through three packages", () => {
    const graph = new Map([
      ["config", new Set(["httpx"])],
      ["httpx", new Set(["logging"])],
      ["logging", new Set(["config"])],
    ]);
    expect(findCycle(graph)).toEqual(["config", "httpx", "logging", "config"]);
  });
});
