import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { allowedMethodsOf } from "./allowed-methods.ts";

describe("allowedMethodsOf", () => {
  const app = new Hono();
  app.use(async (_c, next) => next());
  app.get("/books", (c) => c.text("list"));
  app.post("/books", (c) => c.text("added"));
  app.delete("/books/:id", (c) => c.text("gone"));
  const allowed = allowedMethodsOf(app);

  test("lists every method routed at a path, HEAD wherever GET is", () => {
    expect(allowed("/books").sort()).toEqual(["GET", "HEAD", "POST"]);
  });

  test("matches parameterised paths", () => {
    expect(allowed("/books/42")).toEqual(["DELETE"]);
  });

  test("is empty for a path no route matches, middleware notwithstanding", () => {
    expect(allowed("/nothing-here")).toEqual([]);
  });

  test("sees routes added after it was created, up to its first use", () => {
    const late = new Hono();
    const allowedLate = allowedMethodsOf(late);
    late.put("/late", (c) => c.text("ok"));
    expect(allowedLate("/late")).toEqual(["PUT"]);
  });
});
