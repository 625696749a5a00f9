/**
 * One upstream attempt in a process of its own, so a test can see what it costs in memory
 * without the noise of the test runner's heap:
 *
 *   bun tools/kit/upstream-probe.ts '{"url":"http://127.0.0.1:1234/books","maxBodyBytes":65536}'
 *
 * First one attempt against `warmUrl` (when given) so fetch's own start-up is not counted, then
 * the measured attempt; prints one JSON line: `{ outcome, message, rssGrowthMiB }`, where
 * `outcome` is `ok` or the UpstreamError kind and `rssGrowthMiB` is the peak resident memory
 * during and right after the attempt, above what the process held before it.
 */
import { createUpstreamClient, isUpstreamError } from "../../internal/booksvc/upstream.ts";

export interface ProbeOptions {
  url: string;
  maxBodyBytes: number;
  warmUrl?: string;
}

export interface ProbeResult {
  outcome: string;
  message: string;
  rssGrowthMiB: number;
}

const rssMiB = (): number => process.memoryUsage.rss() / 2 ** 20;

async function probe({ url, maxBodyBytes, warmUrl }: ProbeOptions): Promise<ProbeResult> {
  if (warmUrl !== undefined) {
    await createUpstreamClient({ url: warmUrl, attemptTimeoutMs: 5_000 }).fetchBooks();
  }
  const client = createUpstreamClient({ url, attemptTimeoutMs: 10_000, maxBodyBytes });
  Bun.gc(true);
  const before = rssMiB();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB());
  }, 1);
  let outcome = "ok";
  let message = "";
  try {
    await client.fetchBooks();
  } catch (error) {
    outcome = isUpstreamError(error) ? error.kind : "unexpected";
    message = error instanceof Error ? error.message : String(error);
  }
  // Whatever a decoded body left behind is still resident right after the attempt.
  peak = Math.max(peak, rssMiB());
  clearInterval(sampler);
  return { outcome, message, rssGrowthMiB: Math.round((peak - before) * 10) / 10 };
}

if (import.meta.main) {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("usage: bun tools/kit/upstream-probe.ts '<json ProbeOptions>'");
  process.stdout.write(`${JSON.stringify(await probe(JSON.parse(raw) as ProbeOptions))}\n`);
}
