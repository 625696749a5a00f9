/**
 * docker-compose.yaml as `compose-up.sh` runs it on a shared machine: every published port on
 * 127.0.0.1 and a port of its own (the file's 8081/8082 may be taken, and nothing may listen
 * beyond loopback), build contexts and bind mounts as absolute paths (the copy lives in a temp
 * dir). Everything else is the file as users run it.
 *
 *   bun tools/packaging/containers/compose-for-check.ts <compose-file> <out-file> <containerPort>=<hostPort>...
 */
import { dirname, isAbsolute, resolve } from "node:path";

type Service = Record<string, unknown> & { ports?: unknown[]; build?: unknown; volumes?: unknown[] };

export function composeForCheck(doc: { services: Record<string, Service> }, composeDir: string, hostPorts: ReadonlyMap<number, number>) {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(composeDir, path));
  const services: Record<string, Service> = {};
  for (const [name, original] of Object.entries(doc.services)) {
    const service: Service = { ...original };
    if (Array.isArray(service.ports)) {
      service.ports = service.ports.map((entry) => {
        const containerPort = Number(String(entry).split(":").at(-1));
        const hostPort = hostPorts.get(containerPort);
        if (hostPort === undefined) throw new Error(`${name}: no host port given for container port ${containerPort}`);
        return `127.0.0.1:${hostPort}:${containerPort}`;
      });
    }
    if (typeof service.build === "object" && service.build !== null) {
      const build = service.build as { context?: string };
      service.build = { ...build, context: absolute(build.context ?? ".") };
    }
    if (Array.isArray(service.volumes)) {
      service.volumes = service.volumes.map((volume) => {
        const text = String(volume);
        return text.startsWith(".") ? `${absolute(text.slice(0, text.indexOf(":")))}${text.slice(text.indexOf(":"))}` : text;
      });
    }
    services[name] = service;
  }
  return { ...doc, services };
}

if (import.meta.main) {
  const [input, output, ...pairs] = process.argv.slice(2);
  if (input === undefined || output === undefined) throw new Error("usage: compose-for-check.ts <compose-file> <out-file> <containerPort>=<hostPort>...");
  const hostPorts = new Map(pairs.map((pair) => pair.split("=").map(Number) as [number, number]));
  const doc = Bun.YAML.parse(await Bun.file(input).text()) as { services: Record<string, Service> };
  await Bun.write(output, Bun.YAML.stringify(composeForCheck(doc, dirname(resolve(input)), hostPorts), null, 2));
}
