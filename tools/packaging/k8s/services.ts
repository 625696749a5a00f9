// What the contract and the measurements say about our two services, in the
// form the Kubernetes rules need. The variable lists follow the contract's
// tables; the config readers are the services' own, so a value the service
// would refuse at start is refused here first.

import { readBooksvcConfig } from "../../../internal/booksvc/config.ts";
import { readStoragesvcConfig } from "../../../internal/storagesvc/config.ts";
import type { EnvRecord } from "../../../internal/config/env.ts";

export type ServiceName = "booksvc" | "storagesvc";

export interface ServiceFacts {
  /** The image name deploy/k8s uses (kustomize `images:` may add a registry in front). */
  image: string;
  defaultPort: number;
  /** Every variable the contract lists for this service. */
  variables: readonly string[];
  /** The service's own reader: throws ConfigError with one line per bad variable. */
  readConfig: (env: EnvRecord) => unknown;
  /** RSS under the bench's load (README, `bun run bench`), the floor of a memory request. */
  loadedRssMiB: number;
}

const BOTH = ["HTTP_PORT", "LOG_LEVEL", "SHUTDOWN_DELAY_MS"] as const;

export const SERVICES: Record<ServiceName, ServiceFacts> = {
  booksvc: {
    image: "bookstore/booksvc",
    defaultPort: 8081,
    variables: [
      ...BOTH,
      "STORAGESVC_URL",
      "REDIS_ADDR",
      "REDIS_URL",
      "RESILIENCE_STRATEGY",
      "UPSTREAM_TIMEOUT_MS",
      "REQUEST_TIMEOUT_MS",
      "RETRY_INITIAL_INTERVAL_MS",
      "RETRY_MULTIPLIER",
      "RETRY_RANDOMIZATION_FACTOR",
      "RETRY_MAX_INTERVAL_MS",
      "RETRY_MAX_RETRIES",
      "BREAKER_FAILURE_THRESHOLD",
      "BREAKER_OPEN_MS",
      "BREAKER_INTERVAL_MS",
      "CACHE_TTL_S",
      "CACHE_KEY",
      "CACHE_MAX_PAGES",
      "UPSTREAM_MAX_BODY_BYTES",
      "COLLAPSE_REQUESTS",
    ],
    readConfig: readBooksvcConfig,
    loadedRssMiB: 69,
  },
  storagesvc: {
    image: "bookstore/storagesvc",
    defaultPort: 8082,
    variables: [...BOTH, "DATABASE_URL", "DB_POOL_MAX"],
    readConfig: readStoragesvcConfig,
    loadedRssMiB: 67,
  },
};

/** Contract defaults of the numbers the rules reason about. */
export const DEFAULTS = {
  SHUTDOWN_DELAY_MS: 0,
  REQUEST_TIMEOUT_MS: 10_000,
  CACHE_MAX_PAGES: 100,
  UPSTREAM_MAX_BODY_BYTES: 1_048_576,
} as const;

/** After the shutdown delay, in-flight requests get up to this long to finish (contract, "Both services"). */
export const IN_FLIGHT_DRAIN_S = 10;
/** Time to close connections, flush logs and exit after the drain, on a busy node. */
export const EXIT_MARGIN_S = 3;
/** JS strings hold one byte per character for Latin-1 text and two once any character is not. */
export const CACHE_BYTES_PER_BODY_BYTE = 2;

export const PROBE_ROUTES = { readiness: "/readyz", liveness: "/healthz", startup: "/healthz" } as const;
