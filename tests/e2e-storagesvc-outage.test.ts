import { describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  during,
  isCacheHit,
  OUTAGE_TIMEOUTS,
  useOutageStack,
  untilFresh,
} from "../tools/kit/outage-stack.ts";
import { strategyNames } from "../internal/resilience/index.ts";

// Starts real processes and servers: a busy 2-core machine needs more than the default 5 s.
setDefaultTimeout(30_000);

const { BREAKER_OPEN_MS, REQUEST_TIMEOUT_MS, UPSTREAM_TIMEOUT_MS } = OUTAGE_TIMEOUTS;
const STRATEGIES = strategyNames;

const env = useOutageStack(STRATEGIES);

describe("storagesvc outage, real services behind fault proxies", () => {
  test("storagesvc down: combined answers every request with cached books, none answers 502 at once, both fresh again after", async () => {
    await env().stack.storagesvcProxy.cut();
    const [combined, none] = await Promise.all([
      Promise.all([1, 2, 3].map(() => during(`${env().booksvc.combined.url}/`, 2_000))).then((a) => a.flat()),
      during(`${env().booksvc.none.url}/`, 1_000),
    ]);
    expect(combined.length).toBeGreaterThan(10);
    for (const answer of combined) {
      expect(answer.status).toBe(200);
      expect(Array.isArray(answer.body) && answer.body.length).toBeGreaterThan(0);
    }
    expect(combined.some(isCacheHit)).toBe(true);
    for (const answer of none) {
      expect(answer.status).toBe(502);
      // A refused connection fails at once: booksvc's own measure stays under its upstream timeout.
      expect((await env().booksvc.none.requestLine(answer.requestId)).duration_ms).toBeLessThan(UPSTREAM_TIMEOUT_MS);
    }

    await env().stack.storagesvcProxy.pass();
    // Event waits whose timeouts are the limits: untilFresh fails past them.
    await Promise.all([
      untilFresh(`${env().booksvc.combined.url}/`, BREAKER_OPEN_MS + 1_000),
      untilFresh(`${env().booksvc.none.url}/`, 1_000),
    ]);
  });

  test("storagesvc frozen (SIGSTOP): no strategy makes a request wait longer than REQUEST_TIMEOUT_MS", async () => {
    env().stack.storagesvc.signal("SIGSTOP");
    const answers = await Promise.all(
      STRATEGIES.map(async (strategy) => {
        const url = `${env().booksvc[strategy].url}/`;
        // Two clients per strategy for a little longer than one request timeout.
        const all = (await Promise.all([1, 2].map(() => during(url, REQUEST_TIMEOUT_MS + 500)))).flat();
        return { strategy, all };
      }),
    );
    for (const { strategy, all } of answers) {
      expect(all.length).toBeGreaterThan(0);
      for (const answer of all) {
        // booksvc's own measure of the request, not this busy process's clock.
        const { duration_ms } = await env().booksvc[strategy].requestLine(answer.requestId);
        if (duration_ms > REQUEST_TIMEOUT_MS + 100) {
          throw new Error(`${strategy} answered ${answer.status} after ${duration_ms} ms`);
        }
      }
      if (strategy === "retry") expect(all.every((a) => a.status === 504)).toBe(true);
      if (strategy === "none") expect(all.every((a) => a.status === 502)).toBe(true);
      // The cache strategies end up answering from the cache once the breaker has opened.
      if (strategy === "breaker" || strategy === "combined") expect(all.some(isCacheHit)).toBe(true);
    }

    env().stack.storagesvc.signal("SIGCONT");
    await untilFresh(`${env().booksvc.combined.url}/`, BREAKER_OPEN_MS + 1_000);
  });
});
