import { describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { skipWithoutHaproxy } from "./haproxy.ts";
import { haproxyConfig, type HaproxyConfigOptions } from "./haproxy-config.ts";

const options: HaproxyConfigOptions = {
  statsSocket: "/tmp/drill/haproxy.sock",
  tiers: [
    {
      name: "books",
      port: 41001,
      serverTimeoutMs: 15_000,
      servers: [
        { name: "booksvc-1", port: 41011 },
        { name: "booksvc-2", port: 41012 },
      ],
    },
    { name: "storage", port: 41002, serverTimeoutMs: 5_000, servers: [{ name: "storagesvc-1", port: 41021 }] },
  ],
};

/** The lines of one `listen` section, trimmed. */
function section(config: string, name: string): string[] {
  const lines = config.split("\n");
  const start = lines.indexOf(`listen ${name}`);
  const end = lines.findIndex((line, i) => i > start && line === "");
  return lines.slice(start + 1, end === -1 ? undefined : end).map((l) => l.trim());
}

function directives(config: string): string[] {
  return config.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

describe("haproxyConfig", () => {
  const config = haproxyConfig(options);

  test("checks readiness with HTTP/1.1 every 500 ms: out after one failure, in after two successes", () => {
    expect(directives(config)).toEqual(
      expect.arrayContaining([
        "option httpchk",
        "http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1",
        "http-check expect status 200",
        "default-server inter 500ms fall 1 rise 2",
      ]),
    );
  });

  test("replays a failed request up to 3 times, each on another replica, for GET and HEAD only", () => {
    expect(directives(config)).toEqual(
      expect.arrayContaining([
        "retries 3",
        "option redispatch 1",
        "retry-on conn-failure empty-response response-timeout 503",
        "http-reuse safe",
      ]),
    );
    for (const tier of ["books", "storage"]) expect(section(config, tier)).toContain("http-request disable-l7-retry unless METH_GET");
  });

  test("one round-robin section per tier, listening on 127.0.0.1 only, a server line per slot", () => {
    expect(section(config, "books")).toEqual(
      expect.arrayContaining([
        "bind 127.0.0.1:41001",
        "balance roundrobin",
        "timeout server 15000ms",
        "http-response set-header X-Served-By %s",
        "server booksvc-1 127.0.0.1:41011 check",
        "server booksvc-2 127.0.0.1:41012 check",
      ]),
    );
    expect(section(config, "storage")).toEqual(
      expect.arrayContaining(["bind 127.0.0.1:41002", "timeout server 5000ms", "server storagesvc-1 127.0.0.1:41021 check"]),
    );
    const binds = directives(config).filter((l) => l.startsWith("bind "));
    expect(binds).toHaveLength(2);
    expect(binds.every((l) => l.startsWith("bind 127.0.0.1:"))).toBe(true);
  });

  test("the admin socket is the one asked for; timeouts are set for every side", () => {
    expect(directives(config)).toEqual(
      expect.arrayContaining([
        "stats socket /tmp/drill/haproxy.sock mode 600 level admin",
        "timeout connect 500ms",
        "timeout client 30s",
        "timeout check 2s",
      ]),
    );
  });

  test.skipIf(skipWithoutHaproxy())("haproxy itself accepts it (haproxy -c)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "haproxy-config-"));
    try {
      const path = join(dir, "haproxy.cfg");
      await Bun.write(path, haproxyConfig({ ...options, statsSocket: join(dir, "haproxy.sock") }));
      const check = Bun.spawn(["haproxy", "-c", "-f", path], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(check.stdout).text(), new Response(check.stderr).text(), check.exited]);
      expect(`${out}${err}`).toContain("Configuration file is valid");
      expect(`${out}${err}`).not.toContain("WARNING");
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
