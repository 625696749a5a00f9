// Preloaded by `bun test` (bunfig.toml). End-to-end and outage tests start processes and
// throwaway servers; on a busy 2-core machine the default 5 s per test is too tight.
// (bunfig's `[test] timeout` is not honoured by Bun 1.4.5; setDefaultTimeout in a preload is.)
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(30_000);
