import { afterEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { splitImageRef } from "../shapes.ts";
import { buildKustomization, parseYamlDocuments } from "./kustomize.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A directory tree from `files` (path → text) in a fresh temp dir. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kustomize-test-"));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await Bun.write(join(dir, path), text);
  }
  return dir;
}

const deployment = (name: string, image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      initContainers: [{name: init, image: ${image}}]
      containers: [{name: main, image: ${image}}]
`;

describe("YAML streams", () => {
  test("split on --- lines as Kubernetes does, dropping empty and comment-only documents", () => {
    const text = "# header\n---\na: 1\n---\n# nothing\n---\nb: |\n  ---\n  kept\n---   \n";
    expect(parseYamlDocuments(text, "x.yaml")).toEqual([{ a: 1 }, { b: "---\nkept\n" }]);
  });

  test("name the file and document of a syntax error", () => {
    expect(() => parseYamlDocuments("a: 1\n---\nb: [\n", "bad.yaml")).toThrow("bad.yaml: document 2");
  });
});

describe("image references", () => {
  test("a registry port is not a tag; a digest is kept apart", () => {
    expect(splitImageRef("registry:5000/bookstore/booksvc")).toEqual({ name: "registry:5000/bookstore/booksvc", tag: undefined, digest: undefined });
    expect(splitImageRef("postgres:17@sha256:abc")).toEqual({ name: "postgres", tag: "17", digest: "sha256:abc" });
  });
});

describe("the offline kustomize build", () => {
  test("applies namespace, labels and images to files and nested kustomizations, as kubectl does", async () => {
    const dir = await tree({
      "base/kustomization.yaml": "namespace: shop\nresources: [ns.yaml, app.yaml]\nimages:\n  - {name: acme/app, newTag: '1.0'}\n",
      "base/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
      "base/app.yaml": deployment("app", "acme/app"),
      "overlay/kustomization.yaml":
        "namespace: shop\nlabels:\n  - pairs: {team: books}\nresources: [../base, db.yaml]\nimages:\n  - {name: acme/app, newName: registry.example/acme/app, newTag: local}\n  - {name: postgres, digest: 'sha256:0123'}\n",
      "overlay/db.yaml": deployment("db", "postgres:17"),
    });
    const objects = await buildKustomization(join(dir, "overlay"));
    const byName = new Map(objects.map((o) => [o.metadata.name, o]));
    expect(byName.get("shop")?.metadata).toEqual({ name: "shop", labels: { team: "books" } }); // cluster-scoped: no namespace
    const app = byName.get("app")!;
    expect(app.metadata.namespace).toBe("shop");
    expect(app.metadata.labels).toEqual({ team: "books" });
    const podSpec = (app.spec as { template: { spec: { containers: { image: string }[]; initContainers: { image: string }[] } } }).template.spec;
    expect(podSpec.containers[0]!.image).toBe("registry.example/acme/app:local");
    expect(podSpec.initContainers[0]!.image).toBe("registry.example/acme/app:local");
    const db = byName.get("db")!;
    expect((db.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image).toBe("postgres@sha256:0123");
  });

  test("refuses fields it does not implement, by name, instead of ignoring them", async () => {
    const dir = await tree({
      "kustomization.yaml": "resources: [app.yaml]\npatches:\n  - path: p.yaml\nconfigMapGenerator: []\n",
      "app.yaml": deployment("app", "acme/app"),
    });
    await expect(buildKustomization(dir)).rejects.toThrow("patches, configMapGenerator not supported by the offline build");
  });

  test("refuses labels that would rewrite selectors and templates", async () => {
    const dir = await tree({
      "kustomization.yaml": "resources: [app.yaml]\nlabels:\n  - pairs: {a: b}\n    includeSelectors: true\n",
      "app.yaml": deployment("app", "acme/app"),
    });
    await expect(buildKustomization(dir)).rejects.toThrow("labels[0]: unsupported includeSelectors");
  });

  test("reports a missing resource, a remote one, a duplicate object and a document that is not an object", async () => {
    const missing = await tree({ "kustomization.yaml": "resources: [nope.yaml]\n" });
    await expect(buildKustomization(missing)).rejects.toThrow("resource nope.yaml does not exist");
    const remote = await tree({ "kustomization.yaml": "resources: [https://example.com/x.yaml]\n" });
    await expect(buildKustomization(remote)).rejects.toThrow("remote resource https://example.com/x.yaml not supported offline");
    const twice = await tree({
      "kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
      "a.yaml": deployment("app", "x"),
      "b.yaml": deployment("app", "y"),
    });
    await expect(buildKustomization(twice)).rejects.toThrow("Deployment app is defined twice");
    const list = await tree({ "kustomization.yaml": "resources: [a.yaml]\n", "a.yaml": "- just\n- a list\n" });
    await expect(buildKustomization(list)).rejects.toThrow("a.yaml: document 1 is not a Kubernetes object");
  });

  test("a numeric tag must be quoted, as kustomize requires", async () => {
    const dir = await tree({
      "kustomization.yaml": "resources: [app.yaml]\nimages:\n  - {name: acme/app, newTag: 1.0}\n",
      "app.yaml": deployment("app", "acme/app"),
    });
    await expect(buildKustomization(dir)).rejects.toThrow("images[0].newTag must be a string");
  });
});
