import http2 from "node:http2";
import net from "node:net";

/**
 * Slow clients against the edge, in a process of their own (so their work does not slow the
 * edge's event loop in the test's process): SLOW_CLIENTS is JSON {ports, plan, runMs}; each
 * planned client opens a connection of its kind from its loopback address, dribbles one byte
 * every 2 s, and when the edge cuts it off comes back. At the end one JSON line lists every
 * connection's life: {"msg":"slow clients done","lives":[…]}.
 */

export type Kind = "h1-slow-headers" | "h1-slow-body" | "h2-slow-body" | "h2-idle";
export type Listener = "plain" | "onion";

/** One slow connection's life: when it opened and when the edge closed it (undefined: never). */
export interface Life {
  kind: Kind;
  listener: Listener;
  openedAt: number;
  closedAt: number | undefined;
}

export interface SlowPlan {
  ports: Record<Listener, number>;
  /** [kind, listener, how many, source address]. */
  plan: [Kind, Listener, number][];
  /** Source addresses, used in turn. */
  addresses: string[];
  runMs: number;
}

/** A slow client: opens a connection of its kind, dribbles, and when cut off, comes back. */
async function slowClient(
  kind: Kind,
  listener: Listener,
  port: number,
  localAddress: string,
  until: number,
  lives: Life[],
): Promise<void> {
  while (Date.now() < until) {
    const life: Life = { kind, listener, openedAt: Date.now(), closedAt: undefined };
    lives.push(life);
    await new Promise<void>((closed) => {
      let drip: NodeJS.Timeout | undefined;
      let release = () => {};
      let over = false;
      // Cut off by the edge: the close is when this fires first.
      const finish = () => {
        if (!over) life.closedAt ??= Date.now();
        clearInterval(drip);
        clearTimeout(stop);
        closed();
      };
      // The run is over: the client lets go itself (that close is not the edge's).
      const stop = setTimeout(
        () => {
          over = true;
          release();
          finish();
        },
        Math.max(0, until - Date.now()),
      );
      const connect = () => net.connect({ host: "127.0.0.1", port, localAddress });
      if (kind === "h1-slow-headers" || kind === "h1-slow-body") {
        const socket = connect();
        socket.on("error", () => {});
        socket.on("data", () => {});
        socket.once("close", finish);
        socket.write(
          kind === "h1-slow-headers"
            ? "GET /healthz HTTP/1.1\r\nhost: edge\r\nx-slow: "
            : "POST /v1/tokens:refresh HTTP/1.1\r\nhost: edge\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n",
        );
        drip = setInterval(() => socket.write("a"), 2_000);
        release = () => socket.destroy();
        return;
      }
      const session = http2.connect(`http://127.0.0.1:${port}`, { createConnection: connect });
      session.on("error", () => {});
      release = () => session.destroy();
      if (kind === "h2-idle") {
        session.once("close", finish);
        return;
      }
      const stream = session.request({
        ":method": "POST",
        ":path": "/v1/tokens:refresh",
        "content-type": "application/json",
      });
      stream.on("error", () => {});
      stream.on("data", () => {});
      // The stream is what holds a request slot; its end is the close that counts.
      stream.once("close", () => {
        finish();
        session.destroy();
      });
      drip = setInterval(() => stream.write("a"), 2_000);
    });
    // A slow client, not a connection flood: it comes back a second after being cut off.
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ports, plan, addresses, runMs } = JSON.parse(process.env.SLOW_CLIENTS ?? "") as SlowPlan;
  const until = Date.now() + runMs;
  const lives: Life[] = [];
  const clients: Promise<void>[] = [];
  let n = 0;
  for (const [kind, listener, count] of plan) {
    for (let i = 0; i < count; i++, n++) {
      const address = addresses[n % addresses.length] as string;
      // They arrive over the first second, not in one instant.
      const start = (n * 1_000) / 300;
      clients.push(
        new Promise((r) => setTimeout(r, start)).then(() =>
          slowClient(kind, listener, ports[listener], address, until, lives),
        ),
      );
    }
  }
  console.log(JSON.stringify({ msg: "slow clients started", clients: n }));
  void Promise.all(clients).then(() => {
    console.log(JSON.stringify({ msg: "slow clients done", lives }));
  });
}
