import { expect, test } from "bun:test";
import { join } from "node:path";
import { composeForCheck } from "./compose-for-check.ts";

const root = join(import.meta.dir, "..", "..", "..");

test("the project's compose file: ports on loopback at the given host ports, absolute contexts and bind mounts, the rest untouched", async () => {
  const doc = Bun.YAML.parse(await Bun.file(join(root, "docker-compose.yaml")).text()) as { services: Record<string, any>; volumes?: unknown };
  const out = composeForCheck(doc, root, new Map([[8081, 41001], [8082, 41002]])) as { services: Record<string, any>; volumes?: unknown };
  expect(out.services.booksvc.ports).toEqual(["127.0.0.1:41001:8081"]);
  expect(out.services.storagesvc.ports).toEqual(["127.0.0.1:41002:8082"]);
  expect(out.services.storagesvc.build.context).toBe(root);
  expect(out.services.migrate.build.context).toBe(root);
  expect(out.services.database.volumes).toEqual(["pgdata:/var/lib/postgresql/data", `${join(root, "deploy/postgres/initdb")}:/docker-entrypoint-initdb.d:ro`]);
  expect(out.services.storagesvc.environment).toEqual(doc.services.storagesvc.environment);
  expect(out.volumes).toEqual(doc.volumes);
});

test("a published port without a host port given is an error naming it", () => {
  expect(() => composeForCheck({ services: { web: { ports: ["80:80"] } } }, "/x", new Map())).toThrow("web: no host port given for container port 80");
});
