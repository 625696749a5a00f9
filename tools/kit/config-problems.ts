import { ConfigError } from "../../internal/config/env.ts";

/** The problem lines `read` reports; fails the test when it does not throw a ConfigError. */
export function configProblems(read: () => unknown): readonly string[] {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}
