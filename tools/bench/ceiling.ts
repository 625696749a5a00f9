/**
 * The ceiling: a bare Bun HTTP server answering every request with the same JSON bytes as
 * storagesvc's `GET /books` (passed in `CEILING_BODY`), on `HTTP_PORT`. No framework, no logging,
 * no database: what one Bun process on this machine can serve at best. Stops on SIGTERM/SIGINT.
 */
const body = process.env.CEILING_BODY ?? "[]";
const port = Number(process.env.HTTP_PORT ?? "0");
const headers = { "Content-Type": "application/json" };

const server = Bun.serve({
  port,
  hostname: "127.0.0.1",
  fetch: () => new Response(body, { headers }),
});
process.stdout.write(`${JSON.stringify({ msg: "listening", port: server.port })}\n`);

const stop = (): void => {
  void server.stop(true); // the process ends right after; nothing waits on the promise
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
