// What the services and the measurements say about our two services, in the
// form the Kubernetes rules need. The variable lists, defaults and config
// readers are the services' own, so the rules cannot drift from them, and a
// value the service would refuse at start is refused here first.

import { booksvcEnvVars, readBooksvcConfig } from "../../../internal/booksvc/config.ts";
import { readStoragesvcConfig, storagesvcEnvVars } from "../../../internal/storagesvc/config.ts";
import { DEFAULT_GRACE_MS, type EnvRecord, type EnvVar, type ListenAddress } from "../../../internal/config/env.ts";

export type ServiceName = "booksvc" | "storagesvc";

export interface ServiceFacts {
  /** The image name deploy/k8s uses (kustomize `images:` may add a registry in front). */
  image: string;
  /**
   * Every variable the service reads, with the service's own reader of it (what it accepts, its
   * default); HTTP_PORT and SHUTDOWN_DELAY_MS, which every service reads, as numbers.
   */
  envVars: { HTTP_PORT: EnvVar<ListenAddress>; SHUTDOWN_DELAY_MS: EnvVar<number> } & Readonly<Record<string, EnvVar<unknown>>>;
  /** The service's own reader: throws ConfigError with one line per bad variable. */
  readConfig: (env: EnvRecord) => unknown;
  /** RSS under the bench's load (`bun run bench`, docs/performance.md), the floor of a memory request. */
  loadedRssMiB: number;
}

export const SERVICES = {
  booksvc: {
    image: "bookstore/booksvc",
    envVars: booksvcEnvVars,
    readConfig: readBooksvcConfig,
    loadedRssMiB: 69,
  },
  storagesvc: {
    image: "bookstore/storagesvc",
    envVars: storagesvcEnvVars,
    readConfig: readStoragesvcConfig,
    loadedRssMiB: 67,
  },
} as const satisfies Record<ServiceName, ServiceFacts>;

/** After the shutdown delay, in-flight requests get up to this long to finish (the services' stop). */
export const IN_FLIGHT_DRAIN_S = DEFAULT_GRACE_MS / 1000;
/** Time to close connections, flush logs and exit after the drain, on a busy node. */
export const EXIT_MARGIN_S = 3;
/** JS strings hold one byte per character for Latin-1 text and two once any character is not. */
export const CACHE_BYTES_PER_BODY_BYTE = 2;

export const PROBE_ROUTES = { readiness: "/readyz", liveness: "/healthz", startup: "/healthz" } as const;
