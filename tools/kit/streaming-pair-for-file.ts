import { afterAll, beforeAll } from "bun:test";
import { StreamingPair } from "./pg-standby.ts";

/**
 * Call at the top of a test file: one primary and standby for all its tests, started before the
 * first and destroyed after the last. Read `.pair` inside a test.
 */
export function streamingPairForFile(): { readonly pair: StreamingPair } {
  let started: StreamingPair | undefined;
  beforeAll(async () => {
    started = await StreamingPair.start();
  });
  afterAll(async () => {
    await started?.destroy();
  });
  return {
    get pair() {
      if (started === undefined) throw new Error("streamingPairForFile: no pair outside a test");
      return started;
    },
  };
}
