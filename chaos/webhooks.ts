import { createServer, type Server } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { Webhook } from "standardwebhooks";
import { WebhookEventType, WebhookService } from "../src/gen/tronpay/v1/webhook_pb.js";
import { census, type DeliveryCensus, listCounts, tally } from "./deliveries.js";
import type { ChaosStack } from "./stack.js";

/**
 * A local webhook receiver (loopback) registered through WebhookService, subscribed to every
 * event type. It counts an event's webhook-id before it answers 200, so an event core stores
 * as DELIVERED was counted. If core refuses the registration, the check cannot run; `skip`
 * says why (the run treats that as a failure).
 */
export interface WebhookCheck {
  /** Why the check cannot run; empty when it runs. */
  skip: string;
  /** The webhook-ids of the events received with a valid signature. */
  received: Set<string>;
  /**
   * Waits until every expected event is received or lost (nothing still on its way), or no
   * event has arrived for `idleMs`, or `maxMs` passed; then the census (undefined if skipped).
   */
  settle(stack: ChaosStack, wait: { idleMs: number; maxMs: number }): Promise<Settled | undefined>;
  close(): Promise<void>;
}

/** The census once nothing is on its way (or the wait is over), and how the wait went. */
export interface Settled extends DeliveryCensus {
  /** Events still on their way when the wait began. */
  pendingAtStart: number;
  waitedMs: number;
  /** Requests the receiver refused because their signature did not verify. */
  badSignatures: number;
}

/** Starts the receiver and registers it; resolves with a skipped check if that is refused. */
export async function startWebhookCheck(stack: ChaosStack): Promise<WebhookCheck> {
  const received = new Set<string>();
  let verifier: Webhook | undefined;
  let bad = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, String(v)]),
      );
      try {
        if (!verifier) throw new Error("not registered yet");
        verifier.verify(Buffer.concat(chunks), headers);
      } catch {
        bad++;
        res.writeHead(400).end();
        return;
      }
      received.add(headers["webhook-id"] ?? "");
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const { skip, endpointId, secret } = await register(stack, `http://127.0.0.1:${port}/hook`);
  if (secret) verifier = new Webhook(secret);
  return {
    skip,
    received,
    settle: (s, wait) =>
      skip
        ? Promise.resolve(undefined)
        : waitSettled(s, endpointId, received, wait).then((c) => ({ ...c, badSignatures: bad })),
    close: () => closeServer(server),
  };
}

async function register(
  stack: ChaosStack,
  url: string,
): Promise<{ skip: string; endpointId: string; secret: string }> {
  try {
    const { endpoint, secret } = await stack
      .client(WebhookService, stack.coreUrls[0] ?? "")
      .createWebhookEndpoint({
        idempotencyKey: "chaos-webhook",
        url,
        // Every event type there is (the enum's numeric values, UNSPECIFIED left out).
        eventTypes: Object.values(WebhookEventType).filter(
          (v): v is number => typeof v === "number" && v > 0,
        ),
        description: "chaos receiver",
      });
    if (!endpoint) throw new Error("CreateWebhookEndpoint answered without an endpoint");
    return { skip: "", endpointId: endpoint.id, secret };
  } catch (err) {
    const ce = ConnectError.from(err);
    const skip =
      ce.code === Code.Unimplemented
        ? "WebhookService is not implemented in core yet"
        : `CreateWebhookEndpoint refused the loopback receiver: ${Code[ce.code]} ${ce.rawMessage}`;
    return { skip, endpointId: "", secret: "" };
  }
}

/**
 * Polls the census until nothing is on its way; gives up after `idleMs` without a new event
 * received, or after `maxMs` in all (a backlog that is being worked off is waited for).
 */
async function waitSettled(
  stack: ChaosStack,
  endpointId: string,
  received: ReadonlySet<string>,
  wait: { idleMs: number; maxMs: number },
): Promise<Omit<Settled, "badSignatures">> {
  const started = Date.now();
  let pendingAtStart: number | undefined;
  let seen = received.size;
  let progressAt = started;
  for (;;) {
    const c = await census(stack.db.pool, endpointId, received);
    pendingAtStart ??= c.pending.length;
    const now = Date.now();
    if (received.size > seen) [seen, progressAt] = [received.size, now];
    const over = now - progressAt > wait.idleMs || now - started > wait.maxMs;
    if (c.pending.length === 0 || over) return { ...c, pendingAtStart, waitedMs: now - started };
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/**
 * Prints the webhook figures and adds the violations: every lost event, and once the wait is
 * over, every event stuck: still not dispatched, due for more than a few seconds with no worker
 * taking it, or claimed again and again without an attempt (a lease outlives a send's timeout,
 * and the wait outlives a lease). An event whose retry is correctly scheduled for later is
 * pending, not lost.
 */
export function reportWebhooks(
  c: Settled,
  verdict: { violations: string[] },
  say: (msg: string) => void,
): void {
  const stuck = c.pending.filter(
    (u) =>
      u.kind === "not dispatched yet" ||
      u.kind === "leased" ||
      (u.kind === "due" && (u.nextInMs ?? 0) < -5_000),
  );
  const other = [...c.notExpected.values()].reduce((a, b) => a + b, 0);
  say(
    `webhooks: ${c.expected} events for the receiver, ${c.received} received, ${c.pending.length} pending (${tally(c.pending) || "none"}), ${c.lost.length} lost (${tally(c.lost) || "none"}); ${c.pendingAtStart} were on their way when the payouts settled, waited ${(c.waitedMs / 1000).toFixed(1)} s; ${c.badSignatures} bad signatures`,
  );
  say(
    `webhooks: ${other} outbox events are for no receiver (${listCounts(c.notExpected) || "none"})`,
  );
  for (const u of [...c.lost, ...c.pending].slice(0, 20))
    say(`webhook event ${u.eventId} ${u.type}: ${u.kind}: ${u.detail}`);
  if (c.lost.length > 0)
    verdict.violations.push(
      `webhooks: ${c.lost.length} of ${c.expected} events lost (${tally(c.lost)})`,
    );
  if (c.badSignatures > 0)
    verdict.violations.push(
      `webhooks: ${c.badSignatures} requests with a signature that did not verify`,
    );
  if (stuck.length > 0)
    verdict.violations.push(
      `webhooks: ${stuck.length} of ${c.expected} events stuck after the wait (${tally(stuck)})`,
    );
}
