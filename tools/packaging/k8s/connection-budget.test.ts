import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { checkObjects, imageUsers, INITDB_DIR, K8S_DIR } from "../check-k8s.ts";
import { ADMIN_HEADROOM, connectionBudget, connectionsNeeded, serverSettings, surgePods } from "./connection-budget.ts";
import { buildKustomization, type K8sObject } from "./kustomize.ts";
import { workloads } from "./objects.ts";
import { findServiceWorkloads } from "./workload-rules.ts";

const root = join(import.meta.dir, "..", "..", "..");
const users = imageUsers(await Bun.file(join(root, "Dockerfile")).text());
const initdb = new Map([["10-books-reader.sql", await Bun.file(join(root, INITDB_DIR, "10-books-reader.sql")).text()]]);

// Parsed YAML, reached into freely to change it.
type Loose = any;
const find = (objects: K8sObject[], kind: string, name: string): Loose => objects.find((o) => o.kind === kind && o.metadata.name === name);
const local = () => buildKustomization(join(root, K8S_DIR, "overlays/local"));
const budgetOf = (objects: K8sObject[]) => {
  const all = workloads(objects);
  return connectionBudget(objects, all, findServiceWorkloads(all, objects).found);
};
const postgresContainer = (objects: K8sObject[]): Loose => find(objects, "Deployment", "postgres").spec.template.spec.containers[0];

describe("the connection budget", () => {
  test("of the local overlay: 2 replicas + 1 surge at DB_POOL_MAX 10, the Job's 1, 3 reserved, within max_connections 50", async () => {
    const budget = budgetOf(await local());
    expect(budget).toEqual({ server: "Deployment bookstore/postgres", pods: 3, poolMax: 10, migration: 1, reserved: 3, maxConnections: 50 });
    expect(connectionsNeeded(budget!)).toBe(3 * 10 + 1 + 3 + ADMIN_HEADROOM);
  });

  test("more replicas than the server takes is a problem naming every part of the sum", async () => {
    const objects = await local();
    find(objects, "Deployment", "storagesvc").spec.replicas = 4;
    const problems = checkObjects(objects, users, initdb).join("\n");
    expect(problems).toContain(
      "Deployment bookstore/postgres: max_connections 50 is too small for 59 connections: 5 storagesvc pods at once (replicas or HPA maxReplicas, plus maxSurge) x DB_POOL_MAX 10, 1 for the migration Job, 3 reserved",
    );
  });

  test("an HPA's maxReplicas counts, not today's replicas", async () => {
    const objects = await local();
    objects.push({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "storagesvc", namespace: "bookstore" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "storagesvc" }, minReplicas: 2, maxReplicas: 6 },
    });
    expect(budgetOf(objects)?.pods).toBe(7);
  });

  test("a bigger pool, a bigger Job pool and reserved_connections all count; raising max_connections fixes it", async () => {
    const objects = await local();
    find(objects, "ConfigMap", "storagesvc-config").data.DB_POOL_MAX = "13";
    find(objects, "Job", "storagesvc-migrate").spec.template.spec.containers[0].env[1].value = "2";
    postgresContainer(objects).args = ["-c", "max_connections=50", "-c", "reserved_connections=2"];
    expect(budgetOf(objects)).toMatchObject({ pods: 3, poolMax: 13, migration: 2, reserved: 5, maxConnections: 50 });
    expect(checkObjects(objects, users, initdb).join("\n")).toContain("max_connections 50 is too small for 51 connections");
    postgresContainer(objects).args = ["-c", "max_connections=51", "-c", "reserved_connections=2"];
    expect(checkObjects(objects, users, initdb)).toEqual([]);
  });

  test("without max_connections in its args the server has PostgreSQL's 100", async () => {
    const objects = await local();
    postgresContainer(objects).args = undefined;
    expect(budgetOf(objects)?.maxConnections).toBe(100);
  });

  test("the base has no server of its own: nothing to check against", async () => {
    expect(budgetOf(await buildKustomization(join(root, K8S_DIR, "base")))).toBeUndefined();
  });
});

describe("serverSettings", () => {
  test("reads -c k=v, -ck=v and --k=v from command and args", () => {
    const settings = serverSettings({ command: ["postgres", "-c", "max_connections=40"], args: ["-cshared_buffers=128MB", "--reserved_connections=2", "-N", "60"] });
    expect(Object.fromEntries(settings)).toEqual({ max_connections: "40", shared_buffers: "128MB", reserved_connections: "2" });
  });
});

describe("surgePods", () => {
  const deployment = (strategy: unknown): K8sObject => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { strategy } });
  test("a number, a percentage rounded up, Kubernetes' 25 % default, none for Recreate", () => {
    expect(surgePods(deployment({ rollingUpdate: { maxSurge: 2 } }), 4)).toBe(2);
    expect(surgePods(deployment({ rollingUpdate: { maxSurge: "50%" } }), 3)).toBe(2);
    expect(surgePods(deployment(undefined), 2)).toBe(1);
    expect(surgePods(deployment({ type: "Recreate" }), 5)).toBe(0);
  });
});
