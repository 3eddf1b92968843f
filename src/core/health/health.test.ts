import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../gen/health/v1/health_pb.js";
import { publicServices } from "../../shared/api.js";
import { errorInterceptor } from "../../shared/connect.js";
import { type Dependency, type HealthMonitor, startHealthMonitor } from "./monitor.js";
import { serviceNeeds } from "./probes.js";
import { createHealthHandlers } from "./service.js";

const log = pino({ level: "silent" });
const monitors: HealthMonitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.stop();
});

/** A monitor over switchable probes; `hang` makes a probe never answer. */
function monitorOver(names: Dependency[]) {
  const broken = new Set<Dependency>();
  const hanging = new Set<Dependency>();
  const monitor = startHealthMonitor({
    probes: names.map((name) => ({
      name,
      check: () =>
        hanging.has(name)
          ? new Promise<void>(() => {})
          : broken.has(name)
            ? Promise.reject(new Error(`${name} down`))
            : Promise.resolve(),
    })),
    needs: {
      ...serviceNeeds(publicServices.map((s) => s.typeName)),
      "grpc.health.v1.Health": [],
    },
    intervalMs: 60_000,
    timeoutMs: 200,
    log,
  });
  monitors.push(monitor);
  return { monitor, broken, hanging };
}

function clientOf(monitor: HealthMonitor) {
  const transport = createRouterTransport(
    (router) => router.service(Health, createHealthHandlers(monitor)),
    { router: { interceptors: [errorInterceptor] } },
  );
  return createClient(Health, transport);
}

describe("health monitor", () => {
  it("declares the dependencies of every public service and refuses an undeclared one", () => {
    const needs = serviceNeeds(publicServices.map((s) => s.typeName));
    for (const s of publicServices) expect(needs[s.typeName]).toContain("postgres");
    expect(needs["tronpay.v1.PayoutService"]).toEqual(["postgres", "redis", "signer", "node"]);
    expect(() => serviceNeeds(["tronpay.v1.NewService"])).toThrow(/tronpay.v1.NewService/);
  });

  it("serves nothing before the first probe, then follows the probes per service", async () => {
    const { monitor, broken } = monitorOver(["postgres", "signer", "node"]);
    expect(monitor.serving("")).toBe(false);
    await monitor.refresh();
    expect(monitor.serving("")).toBe(true);
    broken.add("node");
    await monitor.refresh();
    expect(monitor.failing()).toEqual(["node"]);
    expect(monitor.serving("")).toBe(false);
    expect(monitor.serving("tronpay.v1.PayoutService")).toBe(false);
    expect(monitor.serving("tronpay.v1.NetworkService")).toBe(false);
    // Services that do not touch the node, and liveness, still serve; Redis has no probe here.
    expect(monitor.serving("tronpay.v1.PayeeService")).toBe(true);
    expect(monitor.serving("tronpay.v1.AdminService")).toBe(true);
    expect(monitor.serving("grpc.health.v1.Health")).toBe(true);
    expect(monitor.serving("tronpay.v1.Nope")).toBeUndefined();
    broken.add("postgres");
    await monitor.refresh();
    expect(monitor.serving("tronpay.v1.AdminService")).toBe(false);
    expect(monitor.serving("grpc.health.v1.Health")).toBe(true);
  });

  it("counts a probe that does not answer in time as failing", async () => {
    const { monitor, hanging } = monitorOver(["postgres", "signer"]);
    hanging.add("signer");
    const started = Date.now();
    await monitor.refresh();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(monitor.failing()).toEqual(["signer"]);
  });
});

describe("grpc.health.v1.Health", () => {
  it("answers Check for the server and each service, NOT_FOUND for an unknown one", async () => {
    const { monitor, broken } = monitorOver(["postgres", "signer", "node"]);
    await monitor.refresh();
    const client = clientOf(monitor);
    expect((await client.check({ service: "" })).status).toBe(Status.SERVING);
    for (const s of publicServices) {
      expect((await client.check({ service: s.typeName })).status, s.typeName).toBe(Status.SERVING);
    }
    broken.add("signer");
    await monitor.refresh();
    expect((await client.check({})).status).toBe(Status.NOT_SERVING);
    expect((await client.check({ service: "tronpay.v1.WalletService" })).status).toBe(
      Status.NOT_SERVING,
    );
    expect((await client.check({ service: "tronpay.v1.WebhookService" })).status).toBe(
      Status.SERVING,
    );
    const err = await client.check({ service: "tronpay.v1.Nope" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });

  it("lists every service's status", async () => {
    const { monitor, broken } = monitorOver(["postgres", "node"]);
    broken.add("node");
    await monitor.refresh();
    const { statuses } = await clientOf(monitor).list({});
    expect(Object.keys(statuses).sort()).toEqual(
      ["", "grpc.health.v1.Health", ...publicServices.map((s) => s.typeName)].sort(),
    );
    expect(statuses[""]?.status).toBe(Status.NOT_SERVING);
    expect(statuses["tronpay.v1.PayeeService"]?.status).toBe(Status.SERVING);
  });

  it("streams the status and each change on Watch; SERVICE_UNKNOWN keeps the stream open", async () => {
    const { monitor, broken } = monitorOver(["postgres", "node"]);
    await monitor.refresh();
    const client = clientOf(monitor);
    const abort = new AbortController();
    const seen: Status[] = [];
    const stream = client.watch({ service: "tronpay.v1.PayoutService" }, { signal: abort.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const next = async () => {
      const r = await iterator.next();
      if (r.done) throw new Error("stream ended");
      seen.push(r.value.status);
    };
    await next();
    broken.add("node");
    await monitor.refresh();
    await next();
    // A change elsewhere (postgres fails too) does not change this service's answer...
    broken.add("postgres");
    await monitor.refresh();
    broken.delete("postgres");
    broken.delete("node");
    await monitor.refresh();
    // ...so the next message is the recovery.
    await next();
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);

    const unknown = client.watch({ service: "tronpay.v1.Nope" })[Symbol.asyncIterator]();
    expect((await unknown.next()).value?.status).toBe(Status.SERVICE_UNKNOWN);
    // Stopping the monitor (core shutting down) ends open streams.
    monitor.stop();
    expect((await unknown.next()).done).toBe(true);
    abort.abort();
  });
});
