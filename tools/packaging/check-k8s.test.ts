import { afterEach, describe, expect, test } from "bun:test";
import { chmod, cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkK8s, checkObjects, compareBuilds, imageUsers, INITDB_DIR, K8S_DIR } from "./check-k8s.ts";
import { buildKustomization, type K8sObject } from "./k8s/kustomize.ts";

const root = join(import.meta.dir, "..", "..");
const users = imageUsers(await Bun.file(join(root, "Dockerfile")).text());

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

// Objects are plain parsed YAML; the tests reach into them freely to break them.
type Loose = any;

/** The problems of the real kustomization `dir` after `breakIt` changes a fresh build of it. */
async function problemsAfter(breakIt: (objects: Loose) => void, dir = "overlays/local"): Promise<string> {
  const objects = await buildKustomization(join(root, K8S_DIR, dir));
  breakIt(objects);
  return checkObjects(objects, users).join("\n");
}

const find = (objects: K8sObject[], kind: string, name: string): Loose => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind} ${name} not in the build`);
  return found;
};
const pod = (objects: K8sObject[], name: string): Loose => find(objects, "Deployment", name).spec.template.spec;
const container = (objects: K8sObject[], name: string): Loose => pod(objects, name).containers[0];

describe("the project's manifests", () => {
  test("pass every check without kubectl", async () => {
    const result = await checkK8s(root, { kubectl: undefined });
    expect(result.problems).toEqual([]);
    expect(result.built.map((b) => b.dir)).toEqual(["base", "overlays/local"]);
  });

  test("pass every check with kubectl too when it is installed (then both builds must agree)", async () => {
    const result = await checkK8s(root, { kubectl: Bun.which("kubectl") ?? undefined });
    expect(result.problems).toEqual([]);
  });

  test("the image users come from the Dockerfile's numeric USER", async () => {
    expect(users).toEqual({ storagesvc: { uid: 65532, gid: 65532 }, booksvc: { uid: 65532, gid: 65532 } });
  });
});

describe("a broken copy on disk", () => {
  async function copy(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "check-k8s-"));
    dirs.push(dir);
    await cp(join(root, K8S_DIR), join(dir, K8S_DIR), { recursive: true });
    await cp(join(root, "Dockerfile"), join(dir, "Dockerfile"));
    await cp(join(root, INITDB_DIR), join(dir, INITDB_DIR), { recursive: true });
    return dir;
  }
  const edit = async (path: string, from: string, to: string): Promise<void> => {
    const text = await Bun.file(path).text();
    if (!text.includes(from)) throw new Error(`${from} not in ${path}`);
    await Bun.write(path, text.replace(from, to));
  };

  test("a short grace period fails in the base and in every overlay that uses it", async () => {
    const dir = await copy();
    await edit(join(dir, K8S_DIR, "base/booksvc.yaml"), "terminationGracePeriodSeconds: 20", "terminationGracePeriodSeconds: 10");
    const { problems } = await checkK8s(dir, { kubectl: undefined });
    const expected = "Deployment bookstore/booksvc: terminationGracePeriodSeconds 10 is less than SHUTDOWN_DELAY_MS 5000 ms + 10 s in-flight drain + 3 s margin = 18 s";
    expect(problems).toContain(`base: ${expected}: the kubelet would SIGKILL requests still being answered`);
    expect(problems).toContain(`overlays/local: ${expected}: the kubelet would SIGKILL requests still being answered`);
  });

  test("a Dockerfile USER that the manifests do not follow fails", async () => {
    const dir = await copy();
    const dockerfile = join(dir, "Dockerfile");
    const text = await Bun.file(dockerfile).text();
    await Bun.write(dockerfile, text.replaceAll("USER 65532:65532", "USER 10001:10001"));
    const { problems } = await checkK8s(dir, { kubectl: undefined });
    expect(problems).toContain("base: Deployment bookstore/storagesvc: container storagesvc: runAsUser is 65532, the image's USER is 10001 (Dockerfile)");
    expect(problems).toContain("base: Deployment bookstore/booksvc: container booksvc: runAsGroup is 65532, the image's USER group is 10001 (Dockerfile)");
  });

  test("a kustomization using a field the offline build lacks fails by name", async () => {
    const dir = await copy();
    await edit(join(dir, K8S_DIR, "overlays/local/kustomization.yaml"), "images:", "replicas:\n  - {name: booksvc, count: 5}\nimages:");
    const { problems } = await checkK8s(dir, { kubectl: undefined });
    expect(problems.join("\n")).toContain("overlays/local: overlays/local/kustomization.yaml: replicas not supported by the offline build");
  });

  test("a kubectl that builds something else is reported (a stand-in kubectl prints the base without its HPA)", async () => {
    const dir = await copy();
    const base = await buildKustomization(join(root, K8S_DIR, "base"));
    const printed = base.filter((o) => o.kind !== "HorizontalPodAutoscaler").map((o) => Bun.YAML.stringify(o)).join("\n---\n");
    await Bun.write(join(dir, "printed.yaml"), printed);
    const kubectl = join(dir, "kubectl");
    await Bun.write(kubectl, `#!/bin/sh\ncat "${join(dir, "printed.yaml")}"\n`);
    await chmod(kubectl, 0o755);
    const { problems } = await checkK8s(dir, { kubectl });
    expect(problems).toContain("base: autoscaling/v2 HorizontalPodAutoscaler bookstore/booksvc: only in the offline build");
    expect(problems.some((p) => p.startsWith("base: kubectl kustomize builds") && p.includes("the offline build has"))).toBe(true);
  });
});

describe("comparison with kubectl kustomize", () => {
  test("names an object that differs and one only kubectl builds", async () => {
    const ours = await buildKustomization(join(root, K8S_DIR, "base"));
    const theirs: Loose[] = structuredClone(ours);
    container(theirs, "booksvc").image = "bookstore/booksvc:other";
    theirs.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "extra", namespace: "bookstore" } });
    const problems = compareBuilds(ours, theirs.map((o) => Bun.YAML.stringify(o)).join("\n---\n")).join("\n");
    expect(problems).toContain("apps/v1 Deployment bookstore/booksvc: differs from kubectl kustomize's");
    expect(problems).toContain("v1 ConfigMap bookstore/extra: only in kubectl kustomize's build");
  });
});

describe("schema rules (kubernetes-models)", () => {
  test("a port written as a string and a malformed quantity are rejected", async () => {
    const problems = await problemsAfter((o) => {
      container(o, "booksvc").ports[0].containerPort = "8081";
      container(o, "storagesvc").resources.limits.memory = "lots";
    });
    expect(problems).toContain("Deployment bookstore/booksvc: schema: /spec/template/spec/containers/0/ports/0/containerPort must be integer");
    expect(problems).toContain('Deployment bookstore/storagesvc: schema: /spec/template/spec/containers/0/resources/limits/memory must match format "quantity"');
  });

  test("a kind without a model is named", async () => {
    const problems = await problemsAfter((o) => {
      o.push({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "web", namespace: "bookstore" } });
    });
    expect(problems).toContain("Ingress bookstore/web: no schema for networking.k8s.io/v1 Ingress");
  });
});

describe("probe rules", () => {
  test("readiness must be /readyz and liveness /healthz, with the reason", async () => {
    const problems = await problemsAfter((o) => {
      container(o, "booksvc").readinessProbe.httpGet.path = "/healthz";
      container(o, "storagesvc").livenessProbe.httpGet.path = "/readyz";
      container(o, "storagesvc").startupProbe.httpGet.path = "/readyz";
    });
    expect(problems).toContain("container booksvc: readinessProbe checks /healthz, expected /readyz");
    expect(problems).toContain("container storagesvc: livenessProbe checks /readyz, expected /healthz: a liveness failure restarts the pod");
    expect(problems).toContain("container storagesvc: startupProbe checks /readyz, expected /healthz: the service starts while its dependencies are down");
  });

  test("a probe on a port that is not the container's, or a missing probe, fails", async () => {
    const problems = await problemsAfter((o) => {
      container(o, "booksvc").livenessProbe.httpGet.port = 8080;
      delete container(o, "storagesvc").startupProbe;
    });
    expect(problems).toContain("container booksvc: livenessProbe port 8080 is not a containerPort of the container");
    expect(problems).toContain("Deployment bookstore/storagesvc: container storagesvc: no startupProbe");
  });

  test("probes must follow HTTP_PORT when the ConfigMap moves the service", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "ConfigMap", "booksvc-config").data.HTTP_PORT = "9090";
    });
    expect(problems).toContain("container booksvc: readinessProbe port http is 8081, but HTTP_PORT makes booksvc listen on 9090");
    expect(problems).toContain("container booksvc: no containerPort 9090, the port HTTP_PORT makes booksvc listen on");
  });

  test("an HTTP_PORT the service refuses is reported by its reader, and no rule takes it as a port", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "ConfigMap", "booksvc-config").data.HTTP_PORT = "70000";
    });
    expect(problems).toContain('container booksvc: booksvc would refuse to start: HTTP_PORT: got "70000", expected a port 1-65535');
    expect(problems).not.toContain("listen on 70000");
  });
});

describe("environment rules", () => {
  test("a variable outside the service's contract is named with where it comes from", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "ConfigMap", "booksvc-config").data.DEBUG = "1";
      container(o, "storagesvc").env.push({ name: "CACHE_TTL_S", value: "60" });
    });
    expect(problems).toContain("container booksvc: sets DEBUG (from ConfigMap booksvc-config), which is not one of booksvc's variables in the contract");
    expect(problems).toContain("container storagesvc: sets CACHE_TTL_S (a literal value), which is not one of storagesvc's variables in the contract");
  });

  test("a value the service would refuse at start is caught by the service's own config reader", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "ConfigMap", "booksvc-config").data.RESILIENCE_STRATEGY = "fast";
      find(o, "Secret", "bookstore-secrets").stringData.DATABASE_URL = "mysql://db/books";
      find(o, "ConfigMap", "booksvc-config").data.SHUTDOWN_DELAY_MS = "5s";
    });
    expect(problems).toContain('container booksvc: booksvc would refuse to start: RESILIENCE_STRATEGY: got "fast", expected one of none, retry, breaker, combined');
    expect(problems).toContain("container storagesvc: storagesvc would refuse to start: DATABASE_URL: got");
    expect(problems).toContain('container booksvc: booksvc would refuse to start: SHUTDOWN_DELAY_MS: got "5s", expected an integer from 0 to 600000 (default 0)');
  });

  test("REDIS_ADDR is read as booksvc parses host:port, and must name a Service of the build", async () => {
    const fine = await problemsAfter((o) => {
      container(o, "booksvc").env[0] = { name: "REDIS_ADDR", value: "redis:6379" };
    });
    expect(fine).not.toContain("REDIS_ADDR");
    const missing = await problemsAfter((o) => {
      container(o, "booksvc").env[0] = { name: "REDIS_ADDR", value: "redis-cache:6379" };
    });
    expect(missing).toContain("Deployment bookstore/booksvc: REDIS_ADDR points at redis-cache, but there is no Service bookstore/redis-cache in this build");
  });

  test("a missing upstream URL, ConfigMap or Secret key fails", async () => {
    const problems = await problemsAfter((o) => {
      delete find(o, "ConfigMap", "booksvc-config").data.STORAGESVC_URL;
      container(o, "storagesvc").envFrom[0].configMapRef.name = "storagesvc-settings";
      container(o, "booksvc").env[0].valueFrom.secretKeyRef.key = "REDIS_ADDRESS";
    });
    expect(problems).toContain("container booksvc: STORAGESVC_URL is not set; its default points at localhost, the pod itself");
    expect(problems).toContain("container storagesvc: envFrom ConfigMap storagesvc-settings is not in this build");
    expect(problems).toContain("container booksvc: REDIS_URL: Secret bookstore-secrets has no key REDIS_ADDRESS");
  });

  test("URLs must name Services and ports of the build", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "ConfigMap", "booksvc-config").data.STORAGESVC_URL = "http://storagesvc:8083/books";
      find(o, "Secret", "bookstore-secrets").stringData.DATABASE_URL = "postgres://bookstore:pw@postgress:5432/bookstore";
    });
    expect(problems).toContain("Deployment bookstore/booksvc: STORAGESVC_URL uses port 8083, but Service storagesvc exposes 8082");
    expect(problems).toContain("Deployment bookstore/storagesvc: DATABASE_URL points at postgress, but there is no Service bookstore/postgress in this build");
  });
});

describe("security rules", () => {
  test("every hardening setting is required on our containers", async () => {
    const problems = await problemsAfter((o) => {
      const sc = container(o, "booksvc").securityContext;
      sc.readOnlyRootFilesystem = false;
      sc.allowPrivilegeEscalation = true;
      sc.capabilities.drop = ["NET_RAW"];
      delete pod(o, "booksvc").securityContext.seccompProfile;
      delete pod(o, "booksvc").securityContext.runAsNonRoot;
      pod(o, "storagesvc").securityContext.runAsUser = 1000;
    });
    for (const expected of [
      "container booksvc: securityContext.readOnlyRootFilesystem must be true",
      "container booksvc: securityContext.allowPrivilegeEscalation must be false",
      "container booksvc: securityContext.capabilities.drop must include ALL",
      "container booksvc: seccompProfile.type must be RuntimeDefault",
      "container booksvc: securityContext.runAsNonRoot must be true",
      "container storagesvc: runAsUser is 1000, the image's USER is 65532 (Dockerfile)",
    ]) {
      expect(problems).toContain(expected);
    }
  });

  test("the datastores of the local overlay must pass Pod Security restricted too", async () => {
    const problems = await problemsAfter((o) => {
      delete pod(o, "postgres").securityContext.seccompProfile;
      pod(o, "redis").hostNetwork = true;
    });
    expect(problems).toContain("Deployment bookstore/postgres: container postgres: seccompProfile.type must be RuntimeDefault");
    expect(problems).toContain('Deployment bookstore/redis: hostNetwork is not allowed under Pod Security "restricted"');
  });
});

describe("shutdown and sizing rules", () => {
  test("a longer shutdown delay needs a longer grace period; a zero delay is refused", async () => {
    const longer = await problemsAfter((o) => {
      find(o, "ConfigMap", "storagesvc-config").data.SHUTDOWN_DELAY_MS = "9000";
    });
    expect(longer).toContain("Deployment bookstore/storagesvc: terminationGracePeriodSeconds 20 is less than SHUTDOWN_DELAY_MS 9000 ms + 10 s in-flight drain + 3 s margin = 22 s");
    const zero = await problemsAfter((o) => {
      delete find(o, "ConfigMap", "booksvc-config").data.SHUTDOWN_DELAY_MS;
    });
    expect(zero).toContain("Deployment bookstore/booksvc: SHUTDOWN_DELAY_MS is 0: the pod stops accepting before endpoints and proxies stop sending to it");
  });

  test("a request timeout longer than the in-flight drain is refused", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "ConfigMap", "booksvc-config").data.REQUEST_TIMEOUT_MS = "30000";
    });
    expect(problems).toContain("Deployment bookstore/booksvc: REQUEST_TIMEOUT_MS 30000 exceeds the 10 s in-flight drain");
  });

  test("timing rules read the values as the services do: one they refuse is reported once, by their reader", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "ConfigMap", "storagesvc-config").data.SHUTDOWN_DELAY_MS = "900000";
      find(o, "ConfigMap", "booksvc-config").data.REQUEST_TIMEOUT_MS = "300000";
    });
    expect(problems).toContain('container storagesvc: storagesvc would refuse to start: SHUTDOWN_DELAY_MS: got "900000", expected an integer from 0 to 600000');
    expect(problems).toContain('container booksvc: booksvc would refuse to start: REQUEST_TIMEOUT_MS: got "300000", expected an integer from 1 to 240000');
    expect(problems).not.toContain("SHUTDOWN_DELAY_MS 900000 ms");
    expect(problems).not.toContain("REQUEST_TIMEOUT_MS 300000 exceeds");
  });

  test("requests above limits, memory below the measured RSS, and a cache that outgrows the limit fail", async () => {
    const problems = await problemsAfter((o) => {
      container(o, "storagesvc").resources.requests.memory = "512Mi";
      container(o, "redis").resources.requests.cpu = "2";
      container(o, "booksvc").resources.requests.memory = "32Mi";
      find(o, "ConfigMap", "booksvc-config").data.CACHE_MAX_PAGES = "300";
    });
    expect(problems).toContain("container storagesvc: request memory 512Mi is above its limit 256Mi");
    expect(problems).toContain("container redis: request cpu 2 is above its limit 1");
    expect(problems).toContain("container booksvc: memory request 32Mi is below the 69 MiB booksvc uses under load (bun run bench, docs/performance.md)");
    expect(problems).toContain(
      "container booksvc: memory limit 384Mi is below 669 MiB: 69 MiB under load + CACHE_MAX_PAGES 300 x UPSTREAM_MAX_BODY_BYTES 1048576 x 2 bytes per character",
    );
  });
});

describe("rollout rules", () => {
  test("capacity must not drop during a rollout; one replica and an untagged image fail", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "Deployment", "storagesvc").spec.strategy.rollingUpdate.maxUnavailable = 1;
      find(o, "Deployment", "storagesvc").spec.replicas = 1;
      container(o, "booksvc").image = "bookstore/booksvc:latest";
    });
    expect(problems).toContain("Deployment bookstore/storagesvc: rollingUpdate.maxUnavailable must be 0");
    expect(problems).toContain("Deployment bookstore/storagesvc: 1 replica: one node drain or crash takes storagesvc away");
    expect(problems).toContain("container booksvc: image bookstore/booksvc:latest has no fixed tag");
  });

  test("pods spread over nodes and, softly, over zones", async () => {
    const problems = await problemsAfter((o) => {
      pod(o, "booksvc").topologySpreadConstraints[1].whenUnsatisfiable = "DoNotSchedule";
      pod(o, "storagesvc").topologySpreadConstraints[0].labelSelector.matchLabels = { "app.kubernetes.io/name": "booksvc" };
    });
    expect(problems).toContain("Deployment bookstore/booksvc: the spread over topology.kubernetes.io/zone must be ScheduleAnyway");
    expect(problems).toContain("Deployment bookstore/storagesvc: the topologySpreadConstraint on kubernetes.io/hostname does not select the Deployment's own pods");
  });
});

describe("Service, PDB and HPA rules", () => {
  test("a Service targetPort must be a containerPort of the pods it selects", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "Service", "booksvc").spec.ports[0].targetPort = "metrics";
      find(o, "Service", "redis").spec.selector = { "app.kubernetes.io/name": "cache" };
    });
    expect(problems).toContain("Service bookstore/booksvc: port 8081 targets metrics, which is not a containerPort of Deployment bookstore/booksvc");
    expect(problems).toContain('Service bookstore/redis: selector {"app.kubernetes.io/name":"cache"} matches no Deployment\'s pods');
  });

  test("a PDB must select the Deployment's labels and allow a disruption", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "PodDisruptionBudget", "booksvc").spec.selector.matchLabels = { app: "booksvc" };
      find(o, "PodDisruptionBudget", "storagesvc").spec.maxUnavailable = 0;
    });
    expect(problems).toContain("PodDisruptionBudget bookstore/booksvc: selector matches no Deployment's pods");
    expect(problems).toContain("Deployment bookstore/booksvc: no PodDisruptionBudget selects its pods");
    expect(problems).toContain("PodDisruptionBudget bookstore/storagesvc: allows no disruption of Deployment bookstore/storagesvc (2 replicas)");
  });

  test("the HPA needs its Deployment inside its bounds and a CPU request to measure", async () => {
    const problems = await problemsAfter((o) => {
      find(o, "HorizontalPodAutoscaler", "booksvc").spec.minReplicas = 5;
      delete container(o, "booksvc").resources.requests.cpu;
    });
    expect(problems).toContain("HorizontalPodAutoscaler bookstore/booksvc: Deployment bookstore/booksvc has 3 replicas, outside minReplicas 5 .. maxReplicas 10");
    expect(problems).toContain("HorizontalPodAutoscaler bookstore/booksvc: scales on cpu utilization, but container booksvc has no cpu request");
  });
});

describe("NetworkPolicy rules", () => {
  const policy = (o: K8sObject[], name: string): Loose => find(o, "NetworkPolicy", name);

  test("a policy port that is no containerPort fails, and the connection it was for is reported", async () => {
    const problems = await problemsAfter((o) => {
      policy(o, "storagesvc-ingress").spec.ingress[0].ports[0].port = 8080;
    });
    expect(problems).toContain("NetworkPolicy bookstore/storagesvc-ingress: ingress port 8080/TCP is not a containerPort of Deployment bookstore/storagesvc");
    expect(problems).toContain("booksvc cannot reach storagesvc on 8082/TCP: no NetworkPolicy allows storagesvc's ingress");
  });

  test("without the default deny or the DNS rule, the check says so", async () => {
    const problems = await problemsAfter((o) => {
      o.splice(o.indexOf(policy(o, "default-deny")), 1);
      o.splice(o.indexOf(policy(o, "allow-dns")), 1);
    }, "base");
    expect(problems).toContain("namespace bookstore: no default-deny NetworkPolicy");
    expect(problems).toContain("booksvc cannot reach the cluster DNS on 53/UDP: no NetworkPolicy allows booksvc's egress");
  });

  test("storagesvc reaches PostgreSQL only; nothing else reaches PostgreSQL or storagesvc", async () => {
    const problems = await problemsAfter((o) => {
      policy(o, "storagesvc-egress").spec.egress[0].ports.push({ protocol: "TCP", port: 443 });
      delete policy(o, "postgres-ingress").spec.ingress[0].from;
      policy(o, "storagesvc-ingress").spec.ingress.push({ ports: [{ protocol: "TCP", port: 8082 }] });
    });
    expect(problems).toContain("NetworkPolicy bookstore/storagesvc-egress: lets storagesvc connect to port 443/TCP; it needs 53/UDP, 53/TCP, 5432/TCP only");
    expect(problems).toContain("a client outside the namespace can reach postgres on 5432/TCP: only storagesvc should reach it");
    expect(problems).toContain("a client outside the namespace can reach storagesvc on 8082/TCP: only booksvc should call storagesvc");
  });

  test("in the local overlay, booksvc cannot reach Redis without both sides allowing it", async () => {
    const problems = await problemsAfter((o) => {
      o.splice(o.indexOf(policy(o, "redis-ingress")), 1);
    });
    expect(problems).toContain("booksvc cannot reach redis on 6379/TCP: no NetworkPolicy allows redis's ingress");
  });
});
