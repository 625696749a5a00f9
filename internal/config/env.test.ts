import { describe, expect, test } from "bun:test";
import { enumVar, intVar, numberVar, optionalVar, portVar, readEnv, urlVar } from "./env.ts";
import { configProblems } from "../../tools/kit/config-problems.ts";

const readers = {
  HTTP_PORT: portVar(8082),
  POOL: intVar(10, 1, 100),
  FACTOR: numberVar(0.5, 0, 1),
  MODE: enumVar(["a", "b"], "a"),
  DATABASE_URL: urlVar("postgres://localhost/x", ["postgres:", "postgresql:"]),
  EXTRA: optionalVar(intVar(0, 0)),
};

const problemsOf = (env: Record<string, string>) => configProblems(() => readEnv(env, readers));

describe("readEnv", () => {
  test("applies every default when nothing is set", () => {
    expect(readEnv({}, readers)).toEqual({
      HTTP_PORT: 8082,
      POOL: 10,
      FACTOR: 0.5,
      MODE: "a",
      DATABASE_URL: "postgres://localhost/x",
      EXTRA: undefined,
    });
  });

  test("treats an empty variable as unset", () => {
    expect(readEnv({ HTTP_PORT: "", EXTRA: "" }, readers).HTTP_PORT).toBe(8082);
  });

  test("accepts a port written as 8081 or :8081", () => {
    expect(readEnv({ HTTP_PORT: ":8081" }, readers).HTTP_PORT).toBe(8081);
    expect(readEnv({ HTTP_PORT: "8081" }, readers).HTTP_PORT).toBe(8081);
  });

  test.each(["abc", "0", "65536", ":", "80a", "-1", "8081.5"])("rejects port %p naming the variable", (raw) => {
    const [problem] = problemsOf({ HTTP_PORT: raw });
    expect(problem).toStartWith(`HTTP_PORT: got ${JSON.stringify(raw)}, expected a port 1-65535`);
  });

  test.each(["0", "101", "1.5", "ten"])("rejects integer %p outside its range", (raw) => {
    expect(problemsOf({ POOL: raw })[0]).toContain("POOL: got");
    expect(problemsOf({ POOL: raw })[0]).toContain("an integer from 1 to 100");
  });

  test.each(["1.5", "-0.1", "x", "1e3"])("rejects number %p", (raw) => {
    expect(problemsOf({ FACTOR: raw })[0]).toContain("a number from 0 to 1");
  });

  test("accepts a decimal number", () => {
    expect(readEnv({ FACTOR: "0.25" }, readers).FACTOR).toBe(0.25);
  });

  test("rejects an unknown word and lists the accepted ones", () => {
    expect(problemsOf({ MODE: "c" })).toEqual(['MODE: got "c", expected one of a, b (default a)']);
  });

  test.each(["not a url", "http://localhost/x", "postgres://"])("rejects URL %p", (raw) => {
    expect(problemsOf({ DATABASE_URL: raw })[0]).toContain("DATABASE_URL: got");
  });

  test("validates an optional variable when it is set", () => {
    expect(readEnv({ EXTRA: "5" }, readers).EXTRA).toBe(5);
    expect(problemsOf({ EXTRA: "x" })[0]).toContain("or unset");
  });

  test("a reader keeps what it accepts and its default apart; the problem line joins them", () => {
    expect([readers.HTTP_PORT.accepts, readers.HTTP_PORT.fallback]).toEqual(["a port 1-65535 written as 8082 or :8082", ":8082"]);
    expect([readers.POOL.accepts, readers.POOL.fallback]).toEqual(["an integer from 1 to 100", "10"]);
    expect([readers.EXTRA.accepts, readers.EXTRA.fallback]).toEqual(["an integer from 0 to 9007199254740991, or unset", undefined]);
    expect(problemsOf({ HTTP_PORT: "x" })).toEqual(['HTTP_PORT: got "x", expected a port 1-65535 written as 8082 or :8082 (default :8082)']);
    expect(problemsOf({ EXTRA: "x" })).toEqual(['EXTRA: got "x", expected an integer from 0 to 9007199254740991, or unset']);
  });

  test("reports every problem at once", () => {
    const problems = problemsOf({ HTTP_PORT: "x", POOL: "0", MODE: "z" });
    expect(problems.map((p) => p.split(":")[0])).toEqual(["HTTP_PORT", "POOL", "MODE"]);
  });
});

describe("urlVar problem lines", () => {
  test.each([
    ["mysql://u:s3cret@host/db", "mysql://u:***@host/db"],
    ["postgres://u:s3cret@", "postgres://u:***@"],
    ["mysql://u:p@ss/w0rd@h:3306/db", "mysql://u:***@h:3306/db"],
    ["mysql://h/db?user=app&password=s3cret", "mysql://h/db?user=app&password=***"],
    ["postgres://h:bad/db?sslpassword=s3cret", "postgres://h:bad/db?sslpassword=***"],
    ["http://localhost/x", "http://localhost/x"],
  ])("never echo the password of a rejected URL (%p)", (raw, shown) => {
    const [problem] = problemsOf({ DATABASE_URL: raw });
    expect(problem).toStartWith(`DATABASE_URL: got ${JSON.stringify(shown)}, expected`);
  });
});

describe("problem lines of other variables", () => {
  test("never echo credentials of a URL given where something else was expected", () => {
    const [problem] = problemsOf({ POOL: "postgres://u:s3cret@h/db?token=s3cret" });
    expect(problem).toStartWith('POOL: got "postgres://u:***@h/db?token=***", expected');
  });
});
