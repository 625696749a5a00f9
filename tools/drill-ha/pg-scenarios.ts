/**
 * The PostgreSQL scenarios of `bun run drill:ha`: a failover from a killed primary to a promoted
 * streaming standby, and storagesvc through PgBouncer's transaction pooling with every answer checked.
 */
import postgres from "postgres";
import { migrateBooksTable } from "../../internal/storagesvc/books-table-migration.ts";
import { type RequestRecord, startLoadWorker } from "../drill/load-worker.ts";
import { PgCluster } from "../kit/pg-cluster.ts";
import { StreamingPair } from "../kit/pg-standby.ts";
import { startThrowawayPgBouncer } from "../kit/pgbouncer.ts";
import { seedBooks } from "../kit/seed-books.ts";
import { waitUntil } from "../kit/wait.ts";
import { runCheckedPages } from "./checked-pages.ts";
import { phase, ScenarioProcesses } from "./processes.ts";
import { between, haRow } from "./rows.ts";
import type { HaCheck, HaRow, HaScenario, HaScenarioContext, HaScenarioResult } from "./scenario.ts";

/** The contract: storagesvc answers 200 within this long of a standby's promotion. */
export const PROMOTION_TO_200_MS = 2_000;
/** booksvc's default UPSTREAM_TIMEOUT_MS: storagesvc's 503 must come well before it. */
const BOOKSVC_UPSTREAM_TIMEOUT_MS = 2_000;

/** Milliseconds since the scenario began, and the event log the report shows. */
function eventLog(ctx: HaScenarioContext) {
  const began = Date.now();
  const events: HaScenarioResult["events"] = [];
  return {
    events,
    note(text: string) {
      events.push({ atMs: Date.now() - began, text });
      ctx.event(text);
    },
  };
}

const pct = (share: number) => `${(share * 100).toFixed(share === 1 || share === 0 ? 0 : 2)} %`;

export const pgFailover: HaScenario = {
  name: "pg-failover",
  async run(ctx) {
    const { events, note } = eventLog(ctx);
    const timing = ctx.quick ? { warmMs: 1_500, outageMs: 3_000, afterMs: 3_000 } : { warmMs: 5_000, outageMs: 8_000, afterMs: 8_000 };
    // Open loop: requests at fixed times, each timed from when it was meant to leave.
    const rate = ctx.quick ? 100 : 200;
    const records: RequestRecord[] = [];
    const pair = await StreamingPair.start();
    const processes = new ScenarioProcesses(ctx.logDir);
    let killedAt = 0;
    let noPrimaryFrom = 0;
    let promoteAt = 0;
    let endAt = 0;
    try {
      note(`primary :${pair.primary.port}, streaming standby :${pair.standby.port} (pg_basebackup -R)`);
      const databaseUrl = pair.url("postgres", "target_session_attrs=primary");
      const storagesvc = await processes.storagesvc("storagesvc", databaseUrl);
      await storagesvc.waitFor("/readyz", 200, 20_000);
      await pair.waitUntilReplayed(); // the table and its books are on the standby too
      const booksvc = await processes.booksvc("booksvc", storagesvc.url);
      await booksvc.waitFor("/healthz", 200, 20_000);
      note(`storagesvc on ${databaseUrl.replace(/^postgres:\/\/[^@]*@/, "")}; booksvc in front; ${rate} req/s to each, open loop`);

      const load = startLoadWorker(
        "drill-ha load",
        {
          targets: [
            { name: "booksvc", url: `${booksvc.url}/` },
            { name: "storagesvc", url: `${storagesvc.url}/books` },
          ],
          load: { rate },
          timeoutMs: 5_000,
        },
        (record) => records.push(record),
      );
      try {
        const warmFrom = Date.now();
        await waitUntil("booksvc served no fresh books", async () => records.some((r) => r.target === "booksvc" && r.fresh && r.startedAt >= warmFrom) || "warming up", {
          timeoutMs: 20_000,
          intervalMs: 50,
          signal: ctx.signal,
        });
        await phase(timing.warmMs, ctx.signal);

        killedAt = Date.now();
        await pair.primary.stop("immediate");
        noPrimaryFrom = Date.now();
        note("primary killed (pg_ctl stop -m immediate): no primary left");
        await phase(timing.outageMs, ctx.signal);

        promoteAt = Date.now();
        note("pg_ctl promote on the standby");
        await pair.standby.promote();
        note("standby promoted (pg_ctl promote returned)");
        await phase(timing.afterMs, ctx.signal);
        endAt = Date.now();
      } finally {
        await load.stop(5_000);
      }
    } finally {
      await processes.stopAll();
      await pair.destroy();
    }

    const storagesvcFresh = (r: RequestRecord) => r.books;
    const rows: HaRow[] = [
      haRow("booksvc, primary killed to end", between(records, "booksvc", killedAt, endAt), { repairAt: promoteAt }),
      haRow("storagesvc, no primary", between(records, "storagesvc", noPrimaryFrom, promoteAt)),
      haRow("storagesvc, after promotion", between(records, "storagesvc", promoteAt, endAt), { repairAt: promoteAt, isFresh: storagesvcFresh }),
    ];
    const [booksvcRow, noPrimary, promoted] = rows as [HaRow, HaRow, HaRow];
    const checks: HaCheck[] = [
      {
        name: `storagesvc 200 within ${PROMOTION_TO_200_MS / 1000} s of the promotion`,
        holds: promoted.timeToFreshMs !== undefined && promoted.timeToFreshMs <= PROMOTION_TO_200_MS,
        measured: promoted.timeToFreshMs === undefined ? "no 200 after the promotion" : `${Math.round(promoted.timeToFreshMs)} ms`,
      },
      {
        name: "booksvc 100 % books from the kill to the end",
        holds: booksvcRow.requests > 0 && booksvcRow.booksShare === 1,
        measured: `${pct(booksvcRow.booksShare)} of ${booksvcRow.requests}`,
      },
      {
        name: `storagesvc answers before booksvc's ${BOOKSVC_UPSTREAM_TIMEOUT_MS} ms upstream timeout while no primary`,
        holds: noPrimary.requests > 0 && noPrimary.maxMs < BOOKSVC_UPSTREAM_TIMEOUT_MS,
        measured: `max ${Math.round(noPrimary.maxMs)} ms over ${noPrimary.requests} requests`,
      },
    ];
    return { name: "pg-failover", title: "PostgreSQL failover: primary killed, streaming standby promoted", rows, checks, events, records };
  },
};

export const pgbouncer: HaScenario = {
  name: "pgbouncer",
  async run(ctx) {
    const { events, note } = eventLog(ctx);
    const requests = ctx.quick ? 2_000 : 10_000;
    const clients = 32;
    const bookCount = 1_000;
    const cluster = await PgCluster.create();
    const processes = new ScenarioProcesses(ctx.logDir);
    const records: RequestRecord[] = [];
    const rows: HaRow[] = [];
    const checks: HaCheck[] = [];
    try {
      await cluster.start();
      const owner = postgres(cluster.url(), { max: 1, onnotice: () => {} });
      try {
        // storagesvc's own migration and seed, then more rows: ids 1..bookCount, no gaps.
        await migrateBooksTable(owner);
        await seedBooks(owner, bookCount - 2);
      } finally {
        await owner.end({ timeout: 1 });
      }
      // Fewer server connections than storagesvc's pool: every client connection shares them.
      const bouncer = await startThrowawayPgBouncer({ serverPort: cluster.port, poolMode: "transaction", poolSize: 4 });
      try {
        note(`PostgreSQL :${cluster.port} with ${bookCount} books; PgBouncer 1.18 :${bouncer.port} pool_mode=transaction default_pool_size=4`);
        const variants = [
          { label: "PgBouncer transaction, prepare=false", url: bouncer.url("postgres", { query: "prepare=false" }), checked: true },
          // Reference figures, full runs only: the same load straight to PostgreSQL, and the
          // default (named prepared statements) through PgBouncer, the configuration that breaks.
          ...(ctx.quick
            ? []
            : [
                { label: "direct to PostgreSQL, prepared (reference)", url: cluster.url(), checked: false },
                { label: "PgBouncer transaction, prepared (the default)", url: bouncer.url("postgres"), checked: false },
              ]),
        ];
        for (const [i, variant] of variants.entries()) {
          const storagesvc = await processes.storagesvc(`storagesvc-${i + 1}`, variant.url, { DB_POOL_MAX: "10" });
          await storagesvc.waitFor("/readyz", 200, 20_000);
          note(`${variant.label}: ${clients} clients, ${requests} requests of random pages`);
          // The broken configuration may wedge: it gets a time cap and short client timeouts.
          const signal = variant.checked ? ctx.signal : AbortSignal.any([ctx.signal, AbortSignal.timeout(60_000)]);
          const result = await runCheckedPages({
            baseUrl: storagesvc.url,
            clients,
            requests,
            bookCount,
            timeoutMs: variant.checked ? 5_000 : 2_000,
            signal,
            target: variant.label,
          });
          ctx.signal.throwIfAborted();
          records.push(...result.records);
          rows.push(haRow(variant.label, result.records, { wrongAnswers: result.wrong }));
          const perSecond = Math.round(result.records.length / (result.elapsedMs / 1000));
          note(
            `${variant.label}: ${result.records.length} requests in ${(result.elapsedMs / 1000).toFixed(1)} s (${perSecond} req/s), ${result.wrong} wrong` +
              (result.wrongExamples.length > 0 ? ` (e.g. ${result.wrongExamples[0]})` : ""),
          );
          if (variant.checked) {
            checks.push({
              name: `0 wrong answers in ${requests} requests, ${clients} clients, through PgBouncer (transaction, prepare=false)`,
              holds: result.wrong === 0 && result.records.length === requests,
              measured: `${result.wrong} wrong, ${result.records.filter((r) => r.outcome !== "200").length} errors in ${result.records.length}`,
            });
          }
        }
      } finally {
        await processes.stopAll();
        await bouncer.close();
      }
    } finally {
      await processes.stopAll();
      await cluster.destroy();
    }
    return { name: "pgbouncer", title: "storagesvc through PgBouncer 1.18 in transaction mode", rows, checks, events, records };
  },
};

export const pgScenarios: HaScenario[] = [pgFailover, pgbouncer];
