import { connect } from "node:net";

/** One line of HAProxy's `show stat`: a frontend, a server or a backend of one proxy. */
export interface StatRow {
  /** Proxy (our `listen` section): `books`, `storage`. */
  proxy: string;
  /** Server name, or `FRONTEND` / `BACKEND`. */
  name: string;
  /** `UP`, `DOWN`, `MAINT`, `UP 1/2` (going down), `DOWN 1/2` (going up), `no check`, `OPEN`. */
  status: string;
  /** Last check's result: `L7OK`, `L7STS` (wrong status), `L4CON` (refused), `L4TOUT`, … */
  checkStatus: string;
  /** Requests replayed (`wretr`). */
  retries: number;
  /** Retries sent to another server (`wredis`). */
  redispatches: number;
  /** Failed connection attempts to servers (`econ`). */
  connectionErrors: number;
  /** Responses that failed: closed early, timed out (`eresp`). */
  responseErrors: number;
  /** 5xx answers sent to clients, HAProxy's own included (`hrsp_5xx`). */
  answers5xx: number;
}

const count = (value: string | undefined) => (value === undefined || value === "" ? 0 : Number(value));

/** Parses the CSV of `show stat` (a `# pxname,svname,…` header line, then one line per row). */
export function parseShowStat(csv: string): StatRow[] {
  const lines = csv.split("\n").filter((line) => line.trim() !== "");
  const header = lines.shift();
  if (header === undefined || !header.startsWith("# ")) throw new Error(`not a show stat answer: ${csv.slice(0, 200)}`);
  const columns = header.slice(2).split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    const field = (name: string) => cells[columns.indexOf(name)];
    return {
      proxy: field("pxname") ?? "",
      name: field("svname") ?? "",
      status: field("status") ?? "",
      checkStatus: field("check_status") ?? "",
      retries: count(field("wretr")),
      redispatches: count(field("wredis")),
      connectionErrors: count(field("econ")),
      responseErrors: count(field("eresp")),
      answers5xx: count(field("hrsp_5xx")),
    };
  });
}

/** Sends one command to HAProxy's admin socket and returns the whole answer (it closes after one). */
export function adminCommand(socketPath: string, command: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer to "${command}" on ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    socket.once("connect", () => socket.end(`${command}\n`));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("close", (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

export async function showStat(socketPath: string): Promise<StatRow[]> {
  return parseShowStat(await adminCommand(socketPath, "show stat"));
}
