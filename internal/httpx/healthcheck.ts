import type { ListenAddress } from "../config/env.ts";

/**
 * The `healthcheck` subcommand of both binaries: probes the local `/healthz` so a container
 * HEALTHCHECK needs neither a shell nor curl. True when it answers 200 within `timeoutMs`.
 */
export async function probeHealth({ hostname, port }: ListenAddress, timeoutMs = 2_000): Promise<boolean> {
  // Bound to every interface (or a wildcard): loopback reaches it; bound to one address: that one.
  const host = hostname === undefined || hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname.includes(":") ? `[${hostname}]` : hostname;
  try {
    const response = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}
