import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CoreMetrics } from "./metrics.js";

/** One dependency's readiness: a name and a check that resolves or throws. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/** The running admin server. */
export interface AdminHttp {
  url: string;
  close(): Promise<void>;
}

/**
 * Plain-HTTP admin endpoints on their own port (loopback by default): /metrics (Prometheus),
 * /livez (the process answers) and /readyz (every dependency check passes; 503 with the
 * failing ones otherwise).
 */
export async function serveAdminHttp(options: {
  host: string;
  port: number;
  metrics: CoreMetrics;
  checks: readonly ReadinessCheck[];
}): Promise<AdminHttp> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    void (async () => {
      if (path === "/metrics") {
        res.setHeader("content-type", options.metrics.registry.contentType);
        res.end(await options.metrics.registry.metrics());
      } else if (path === "/livez") {
        res.end("ok\n");
      } else if (path === "/readyz") {
        const failed = await failing(options.checks);
        res.statusCode = failed.length === 0 ? 200 : 503;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ ready: failed.length === 0, failing: failed }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { address, port, family } = server.address() as AddressInfo;
  return {
    url: `http://${family === "IPv6" ? `[${address}]` : address}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const CHECK_TIMEOUT_MS = 2_000;

async function failing(checks: readonly ReadinessCheck[]): Promise<string[]> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), CHECK_TIMEOUT_MS);
      });
      try {
        await Promise.race([c.check(), timeout]);
        return undefined;
      } catch {
        return c.name;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return results.filter((r): r is string => r !== undefined);
}
