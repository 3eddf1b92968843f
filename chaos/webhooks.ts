import { createServer, type Server } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { sql } from "slonik";
import { z } from "zod";
import { WebhookEventType, WebhookService } from "../src/gen/tronpay/v1/webhook_pb.js";
import type { ChaosStack } from "./stack.js";

/**
 * A local webhook receiver (loopback) registered through WebhookService when core serves it.
 * Webhooks may not be built yet: then the check is skipped, and the report says why.
 */
export interface WebhookCheck {
  /** Why the check is skipped; empty when it runs. */
  skip: string;
  received: Set<string>;
  /** Outbox events not delivered by the deadline (empty when skipped). */
  missing(stack: ChaosStack, ms: number): Promise<{ total: number; missing: string[] }>;
  close(): Promise<void>;
}

/** Starts the receiver and registers it; resolves with a skipped check if that is refused. */
export async function startWebhookCheck(stack: ChaosStack): Promise<WebhookCheck> {
  const received = new Set<string>();
  const server = createServer((req, res) => {
    const id = req.headers["webhook-id"];
    if (typeof id === "string") received.add(id);
    req.resume();
    req.on("end", () => res.writeHead(200).end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const skip = await register(stack, `http://127.0.0.1:${port}/hook`);
  return {
    skip,
    received,
    missing: (s, ms) =>
      skip ? Promise.resolve({ total: 0, missing: [] }) : waitDelivered(s, received, ms),
    close: () => closeServer(server),
  };
}

async function register(stack: ChaosStack, url: string): Promise<string> {
  try {
    await stack.client(WebhookService, stack.coreUrls[0] ?? "").createWebhookEndpoint({
      idempotencyKey: "chaos-webhook",
      url,
      // Every event type there is (the enum's numeric values, UNSPECIFIED left out).
      eventTypes: Object.values(WebhookEventType).filter(
        (v): v is number => typeof v === "number" && v > 0,
      ),
      description: "chaos receiver",
    });
    return "";
  } catch (err) {
    const ce = ConnectError.from(err);
    if (ce.code === Code.Unimplemented) return "WebhookService is not implemented in core yet";
    return `CreateWebhookEndpoint refused the loopback receiver: ${Code[ce.code]} ${ce.rawMessage}`;
  }
}

async function waitDelivered(stack: ChaosStack, received: Set<string>, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = await stack.db.pool.any(
      sql.type(z.object({ event_id: z.string() }))`SELECT event_id FROM outbox`,
    );
    const missing = rows.map((r) => r.event_id).filter((id) => !received.has(id));
    if (missing.length === 0 || Date.now() > deadline) return { total: rows.length, missing };
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}
