/**
 * The `healthcheck` subcommand of both binaries: probes the local `/healthz` so a container
 * HEALTHCHECK needs neither a shell nor curl. True when it answers 200 within `timeoutMs`.
 */
export async function probeHealth(port: number, timeoutMs = 2_000): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}
