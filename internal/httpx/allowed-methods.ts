import type { Hono } from "hono";
import { TrieRouter } from "hono/router/trie-router";

/**
 * The methods `app` has routes for at a path (HEAD wherever GET is), for a 405's `Allow`;
 * empty when no route matches the path at all (a 404). Asked from the not-found handler only,
 * so a matched request never pays for it (hono/method-not-allowed, a middleware, ran on every
 * request). Built on first use: routes are all registered before the first request.
 */
// biome-ignore lint: any Hono app, whatever its env type
export function allowedMethodsOf(app: Hono<any>): (path: string) => string[] {
  let router: TrieRouter<string> | undefined;
  const build = (): TrieRouter<string> => {
    const built = new TrieRouter<string>();
    for (const route of app.routes) {
      // app.use() registers middleware as method ALL; it serves no method of its own.
      if (route.method === "ALL" || route.method === "HEAD") continue;
      built.add("ALL", route.path, route.method);
      if (route.method === "GET") built.add("ALL", route.path, "HEAD");
    }
    return built;
  };
  return (path) => {
    router ??= build();
    const methods = new Set<string>();
    for (const [method] of router.match("ALL", path)[0]) methods.add(method);
    return [...methods];
  };
}
