import { isRecentEnough } from "./haproxy.ts";

/** What the drill found on this machine. */
export interface FoundTools {
  /** `haproxy` on PATH, with its version; undefined when missing. */
  haproxy: { version: string } | undefined;
  /** Whether `redis-server` is on PATH. */
  redisServer: boolean;
}

/**
 * Everything missing for a cluster drill, one sentence each saying what and how to get it; empty
 * when nothing is. A Redis is needed only when the environment names none.
 */
export function missingPrerequisites(found: FoundTools, env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (found.haproxy === undefined) {
    problems.push(
      "haproxy is not on PATH: the cluster drill puts HAProxy in front of each tier. " +
        "Install it with `apt-get install haproxy` (Debian/Ubuntu; 2.2 or newer), then run the drill again; " +
        "it starts its own `haproxy -f <cfg> -db`, the system service is not needed.",
    );
  } else if (!isRecentEnough(found.haproxy.version)) {
    problems.push(`haproxy ${found.haproxy.version} is too old: the drill's health checks (http-check send) need HAProxy 2.2 or newer.`);
  }
  if (!found.redisServer && !env.REDIS_URL && !env.REDIS_ADDR) {
    problems.push(
      "redis-server is not on PATH and REDIS_URL is not set: the booksvc replicas share a Redis. " +
        "Install it with `apt-get install redis-server`, or set REDIS_URL to a Redis the drill may use " +
        "(it only touches a key of its own).",
    );
  }
  return problems;
}
