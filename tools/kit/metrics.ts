/** booksvc's upstream calls and answers so far, read from its /metrics (the tooling's one reader of them). */
export async function booksvcCounters(url: string): Promise<{ calls: number; answers: number }> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let calls = 0;
  let answers = 0;
  for (const line of text.split("\n")) {
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith("booksvc_upstream_calls_total ")) calls = value;
    else if (line.startsWith("booksvc_answers_total{")) answers += value;
  }
  return { calls, answers };
}
