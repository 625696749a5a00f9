import postgres from "postgres";
import { PgCluster } from "./pg-cluster.ts";
import { waitUntil } from "./wait.ts";

/**
 * A primary and its hot standby (`pg_basebackup -R`, streaming replication), both throwaway
 * clusters on free loopback ports, for failover tests and the HA drill.
 */
export class StreamingPair {
  private constructor(
    readonly primary: PgCluster,
    readonly standby: PgCluster,
  ) {}

  /** Starts a primary, copies it into a standby, starts that and waits until it streams. */
  static async start(): Promise<StreamingPair> {
    const primary = await PgCluster.create();
    let standby: PgCluster | undefined;
    try {
      await primary.start();
      standby = await PgCluster.standbyOf(primary);
      await standby.start();
      const pair = new StreamingPair(primary, standby);
      await pair.waitUntilReplayed();
      return pair;
    } catch (error) {
      await standby?.destroy();
      await primary.destroy();
      throw error;
    }
  }

  /**
   * Both hosts in one URL, primary first: `postgres://postgres@127.0.0.1:P,127.0.0.1:S/<db>?<query>`.
   * The order only decides which host is tried first; `target_session_attrs` decides which is kept.
   */
  url(database = "postgres", query = "target_session_attrs=primary"): string {
    return `postgres://postgres@127.0.0.1:${this.primary.port},127.0.0.1:${this.standby.port}/${database}${query ? `?${query}` : ""}`;
  }

  /**
   * Resolves once the standby streams from the primary and has replayed everything the primary has
   * written so far: what it has then survives the primary's death (the clusters commit without
   * waiting for the WAL flush, so a write not yet streamed is lost with an immediate stop).
   */
  async waitUntilReplayed(timeoutMs = 15_000): Promise<void> {
    const primary = postgres(this.primary.url(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    const standby = postgres(this.standby.url(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      // Make sure the primary's latest writes are in a flushed WAL record the standby can receive.
      await primary`select pg_switch_wal()`;
      const [current] = await primary<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
      const lsn = current?.lsn ?? "0/0";
      await waitUntil(
        `standby on port ${this.standby.port} did not replay the primary's WAL up to ${lsn}`,
        async () => {
          const [row] = await standby<{ caught_up: boolean | null }[]>`
            select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as caught_up`;
          return row?.caught_up === true || `replay not at ${lsn} yet`;
        },
        { timeoutMs, intervalMs: 25 },
      );
    } finally {
      await Promise.all([primary.end({ timeout: 1 }), standby.end({ timeout: 1 })]);
    }
  }

  /** Stops both (if running) and removes their directories. Idempotent. */
  async destroy(): Promise<void> {
    await this.standby.destroy();
    await this.primary.destroy();
  }
}
