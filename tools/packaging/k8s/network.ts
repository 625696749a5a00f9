// NetworkPolicies evaluated offline: a connection is allowed when the source's
// egress and the destination's ingress both allow it (a side no policy selects
// is open). Policies select peers by labels; an ipBlock is counted for
// addresses outside the cluster only, since whether it matches pod addresses
// depends on the CNI.

import type { K8sObject } from "./kustomize.ts";
import { objectId } from "./kustomize.ts";
import {
  asList,
  asObj,
  asObjList,
  isEmptySelector,
  type Labels,
  namespaceOf,
  type Obj,
  resolvePort,
  selectedWorkloads,
  selectorMatches,
  type Workload,
} from "./objects.ts";
import { type Destination, resolveDestination, URL_VARIABLES } from "./wiring-rules.ts";
import type { ServiceWorkload } from "./workload-rules.ts";

export type Peer =
  | { kind: "pod"; name: string; namespace: string; labels: Labels; containers: Obj[] }
  | { kind: "external"; name: string; ip: string };

/** Documentation addresses (RFC 5737) standing for "somewhere outside the cluster". */
const CLIENT: Peer = { kind: "external", name: "a client outside the namespace", ip: "203.0.113.10" };
const EXTERNAL_DATASTORE_IP = "198.51.100.7";
const CLUSTER_DNS: Peer = {
  kind: "pod",
  name: "the cluster DNS",
  namespace: "kube-system",
  labels: { "k8s-app": "kube-dns" },
  containers: [{ ports: [{ name: "dns", containerPort: 53, protocol: "UDP" }, { name: "dns-tcp", containerPort: 53, protocol: "TCP" }] }],
};

const podPeer = (w: Workload, name = w.deployment.metadata.name): Peer => ({
  kind: "pod",
  name,
  namespace: w.namespace,
  labels: w.podLabels,
  containers: w.containers,
});

type Direction = "Ingress" | "Egress";

function policyTypes(policy: K8sObject): string[] {
  const spec = asObj(policy.spec);
  if (Array.isArray(spec.policyTypes)) return spec.policyTypes.map(String);
  return spec.egress === undefined ? ["Ingress"] : ["Ingress", "Egress"];
}

const rulesOf = (policy: K8sObject, direction: Direction): Obj[] =>
  asObjList(asObj(policy.spec)[direction === "Ingress" ? "ingress" : "egress"]);

function ipv4(ip: string): number | undefined {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

/** IPv4 CIDR membership; an IPv6 block never holds the IPv4 stand-ins used here. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bits] = cidr.split("/");
  const network = ipv4(base ?? "");
  const address = ipv4(ip);
  const length = Number(bits ?? 32);
  if (network === undefined || address === undefined || !(length >= 0 && length <= 32)) return false;
  const mask = length === 0 ? 0 : (~0 << (32 - length)) >>> 0;
  return ((network & mask) >>> 0) === ((address & mask) >>> 0);
}

export class NetworkModel {
  readonly #policies: K8sObject[];
  readonly #namespaceLabels: (namespace: string) => Labels;

  constructor(objects: K8sObject[]) {
    this.#policies = objects.filter((o) => o.kind === "NetworkPolicy");
    const namespaces = objects.filter((o) => o.kind === "Namespace");
    this.#namespaceLabels = (namespace) => ({
      ...namespaces.find((n) => n.metadata.name === namespace)?.metadata.labels,
      "kubernetes.io/metadata.name": namespace,
    });
  }

  #peerMatches(peers: unknown, other: Peer, policyNamespace: string): boolean {
    const list = asObjList(peers);
    if (peers === undefined || list.length === 0) return true;
    return list.some((peer) => {
      if (peer.ipBlock !== undefined) {
        const block = asObj(peer.ipBlock);
        return (
          other.kind === "external" &&
          cidrContains(String(block.cidr), other.ip) &&
          !asList(block.except).some((e) => cidrContains(String(e), other.ip))
        );
      }
      if (other.kind !== "pod") return false;
      const namespaceOk =
        peer.namespaceSelector === undefined
          ? other.namespace === policyNamespace
          : selectorMatches(peer.namespaceSelector, this.#namespaceLabels(other.namespace));
      const podOk = peer.podSelector === undefined || selectorMatches(peer.podSelector, other.labels);
      return namespaceOk && podOk;
    });
  }

  /** Whether the policies on `subject`'s side let this connection through in `direction`. */
  allows(direction: Direction, subject: Peer, other: Peer, destination: Peer, port: number, protocol: string): boolean {
    if (subject.kind !== "pod") return true;
    const applying = this.#policies.filter(
      (p) =>
        namespaceOf(p) === subject.namespace &&
        selectorMatches(asObj(p.spec).podSelector, subject.labels) &&
        policyTypes(p).includes(direction),
    );
    if (applying.length === 0) return true;
    return applying.some((policy) =>
      rulesOf(policy, direction).some(
        (rule) =>
          this.#peerMatches(direction === "Ingress" ? rule.from : rule.to, other, namespaceOf(policy)) &&
          portsMatch(rule.ports, port, protocol, destination),
      ),
    );
  }

  /** Why a connection from `source` to `destination` on port/protocol is refused, or undefined when it is allowed. */
  blocked(source: Peer, destination: Peer, port: number, protocol = "TCP"): string | undefined {
    const egress = this.allows("Egress", source, destination, destination, port, protocol);
    const ingress = this.allows("Ingress", destination, source, destination, port, protocol);
    if (egress && ingress) return undefined;
    const sides = [!egress && `${source.name}'s egress`, !ingress && `${destination.name}'s ingress`].filter(Boolean);
    return `no NetworkPolicy allows ${sides.join(" nor ")}`;
  }

  get policies(): readonly K8sObject[] {
    return this.#policies;
  }
}

function portsMatch(ports: unknown, port: number, protocol: string, destination: Peer): boolean {
  const list = asObjList(ports);
  if (ports === undefined || list.length === 0) return true;
  return list.some((entry) => {
    if ((entry.protocol ?? "TCP") !== protocol) return false;
    if (entry.port === undefined) return true;
    if (typeof entry.port === "number") {
      const end = typeof entry.endPort === "number" ? entry.endPort : entry.port;
      return port >= entry.port && port <= end;
    }
    // A named port means the destination pod's container port of that name.
    return destination.kind === "pod" && resolvePort(entry.port, destination.containers, protocol) === port;
  });
}

/** Each namespace with workloads denies everything by default, both ways. */
function defaultDenyProblems(model: NetworkModel, all: Workload[]): string[] {
  const namespaces = new Set(all.map((w) => w.namespace));
  return [...namespaces].flatMap((namespace) => {
    const denies = model.policies.some((p) => {
      const spec = asObj(p.spec);
      return (
        namespaceOf(p) === namespace &&
        isEmptySelector(spec.podSelector) &&
        policyTypes(p).includes("Ingress") &&
        policyTypes(p).includes("Egress") &&
        rulesOf(p, "Ingress").length === 0 &&
        rulesOf(p, "Egress").length === 0
      );
    });
    return denies ? [] : [`namespace ${namespace}: no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)`];
  });
}

/** A port in a policy names a container port of the pods it is about: the selected pods (ingress) or the peers (egress). */
function portProblems(model: NetworkModel, all: Workload[]): string[] {
  const problems: string[] = [];
  for (const policy of model.policies) {
    const id = objectId(policy);
    const namespace = namespaceOf(policy);
    const check = (rule: Obj, targets: Workload[], direction: string): void => {
      for (const entry of asObjList(rule.ports)) {
        if (entry.port === undefined || typeof entry.endPort === "number") continue;
        const protocol = typeof entry.protocol === "string" ? entry.protocol : "TCP";
        for (const target of targets) {
          if (resolvePort(entry.port, target.containers, protocol) === undefined) {
            problems.push(`${id}: ${direction} port ${String(entry.port)}/${protocol} is not a containerPort of ${target.id}`);
          }
        }
      }
    };
    const selected = selectedWorkloads(all, namespace, asObj(policy.spec).podSelector);
    for (const rule of rulesOf(policy, "Ingress")) check(rule, selected, "ingress");
    for (const rule of rulesOf(policy, "Egress")) {
      const peers = asObjList(rule.to).filter((p) => p.ipBlock === undefined && p.namespaceSelector === undefined);
      const targets = peers.flatMap((peer) => selectedWorkloads(all, namespace, peer.podSelector ?? {}));
      check(rule, [...new Set(targets)], "egress");
    }
  }
  return problems;
}

/** The peer and port a destination stands for, from the connecting workload's point of view. */
function destinationPeers(destination: Destination, label: string): { peer: Peer; port: number }[] {
  if (destination.kind === "pods") return destination.targets.map((t) => ({ peer: podPeer(t.workload), port: t.port }));
  return [{ peer: { kind: "external", name: label, ip: EXTERNAL_DATASTORE_IP }, port: destination.port }];
}

/** The connections the bookstore needs are allowed, and the ones it must not make are refused. */
function flowProblems(model: NetworkModel, objects: K8sObject[], all: Workload[], services: ServiceWorkload[]): string[] {
  const problems: string[] = [];
  const booksvc = services.find((s) => s.service === "booksvc");
  const storagesvc = services.find((s) => s.service === "storagesvc");
  const need = (source: Peer, destination: Peer, port: number, protocol = "TCP"): void => {
    const why = model.blocked(source, destination, port, protocol);
    if (why) problems.push(`${source.name} cannot reach ${destination.name} on ${port}/${protocol}: ${why}`);
  };
  const refuse = (source: Peer, destination: Peer, port: number, reason: string): void => {
    if (!model.blocked(source, destination, port)) problems.push(`${source.name} can reach ${destination.name} on ${port}/TCP: ${reason}`);
  };

  // Where each service's URLs lead: unset means not used (booksvc's in-memory cache),
  // set from a Secret outside the build means an external datastore on the usual port.
  const datastores = new Map<ServiceWorkload, { peer: Peer; port: number }[]>();
  for (const s of services) {
    const peers: { peer: Peer; port: number }[] = [];
    for (const { name, defaultPort } of URL_VARIABLES[s.service]) {
      if (name === "STORAGESVC_URL") continue;
      const source = s.env.vars.get(name);
      if (!source) continue;
      const { destination } = resolveDestination(source.value, defaultPort, s.workload.namespace, objects, all);
      peers.push(...destinationPeers(destination, `the ${name} endpoint`));
    }
    datastores.set(s, peers);
  }

  for (const s of services) {
    for (const protocol of ["UDP", "TCP"]) need(podPeer(s.workload), CLUSTER_DNS, 53, protocol);
  }
  if (booksvc) {
    need(CLIENT, podPeer(booksvc.workload), booksvc.port);
  }
  if (booksvc && storagesvc) {
    const url = booksvc.env.vars.get("STORAGESVC_URL")?.value;
    const { destination } = resolveDestination(url, 80, booksvc.workload.namespace, objects, all);
    const port = destination.kind === "pods" ? (destination.targets.find((t) => t.workload === storagesvc.workload)?.port ?? storagesvc.port) : storagesvc.port;
    need(podPeer(booksvc.workload), podPeer(storagesvc.workload), port);
    refuse(CLIENT, podPeer(storagesvc.workload), storagesvc.port, "only booksvc should call storagesvc");
  }
  for (const [s, peers] of datastores) {
    for (const { peer, port } of peers) {
      need(podPeer(s.workload), peer, port);
      if (peer.kind !== "pod") continue;
      refuse(CLIENT, peer, port, `only ${s.service} should reach it`);
      for (const other of services.filter((o) => o !== s)) {
        refuse(podPeer(other.workload), peer, port, `only ${s.service} should reach it`);
      }
    }
  }

  // Egress scope: DNS plus what the service's own URLs need, nothing else.
  for (const s of services) {
    const allowed = new Set(["53/UDP", "53/TCP", ...(datastores.get(s) ?? []).map((d) => `${d.port}/TCP`)]);
    if (s.service === "booksvc" && storagesvc) allowed.add(`${storagesvc.port}/TCP`);
    for (const policy of model.policies) {
      if (namespaceOf(policy) !== s.workload.namespace || !policyTypes(policy).includes("Egress")) continue;
      if (!selectorMatches(asObj(policy.spec).podSelector, s.workload.podLabels)) continue;
      for (const rule of rulesOf(policy, "Egress")) {
        const ports = asObjList(rule.ports);
        if (ports.length === 0) {
          problems.push(`${objectId(policy)}: lets ${s.service} connect on every port; it needs ${[...allowed].join(", ")} only`);
        }
        for (const entry of ports) {
          const protocol = typeof entry.protocol === "string" ? entry.protocol : "TCP";
          const port = typeof entry.port === "string" ? entry.port : Number(entry.port);
          if (!allowed.has(`${port}/${protocol}`)) {
            problems.push(`${objectId(policy)}: lets ${s.service} connect to port ${port}/${protocol}; it needs ${[...allowed].join(", ")} only`);
          }
        }
      }
    }
  }
  return problems;
}

/** Every NetworkPolicy rule. */
export function networkProblems(objects: K8sObject[], all: Workload[], services: ServiceWorkload[]): string[] {
  const model = new NetworkModel(objects);
  return [...defaultDenyProblems(model, all), ...portProblems(model, all), ...flowProblems(model, objects, all, services)];
}
