import { describe, expect, test } from "bun:test";
import { rejectionOf } from "./rejection.ts";

describe("rejectionOf", () => {
  test("gives the error a promise rejects with", async () => {
    const error = new RangeError("out of range");
    expect(await rejectionOf(Promise.reject(error))).toBe(error);
  });

  test("rejects when the promise fulfils, saying with what", async () => {
    const outcome = await rejectionOf(Promise.resolve("books")).then(
      () => "no rejection",
      (e: unknown) => String(e),
    );
    expect(outcome).toBe("Error: expected a rejection, got a value: books");
  });

  test("rejects when the reason is not an Error", async () => {
    const outcome = await rejectionOf(Promise.reject("just a string")).then(
      () => "no rejection",
      (e: unknown) => String(e),
    );
    expect(outcome).toBe("Error: expected a rejection with an Error, got just a string");
  });
});
