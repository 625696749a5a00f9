import { expect, test } from "bun:test";
import { join } from "node:path";
import { INITDB_DIR, K8S_DIR } from "../check-k8s.ts";
import { initdbProblems } from "./initdb-rules.ts";
import { buildKustomization } from "./kustomize.ts";
import { workloads } from "./objects.ts";

const root = join(import.meta.dir, "..", "..", "..");
const file = await Bun.file(join(root, INITDB_DIR, "10-books-reader.sql")).text();

test("the local overlay's init script is the repository's file; an edited copy or an unknown script is a problem", async () => {
  const objects = await buildKustomization(join(root, K8S_DIR, "overlays/local"));
  const all = workloads(objects);
  const scripts = new Map([["10-books-reader.sql", file]]);
  expect(initdbProblems(objects, all, scripts)).toEqual([]);

  const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "postgres-initdb") as unknown as { data: Record<string, string> };
  configMap.data["10-books-reader.sql"] = file.replace("grant select", "grant insert, select");
  configMap.data["20-more.sql"] = "select 1;";
  expect(initdbProblems(objects, all, scripts)).toEqual([
    "ConfigMap bookstore/postgres-initdb: 10-books-reader.sql differs from deploy/postgres/initdb/10-books-reader.sql: copy the file into it again",
    "ConfigMap bookstore/postgres-initdb: 20-more.sql is not a file of deploy/postgres/initdb",
  ]);
});
