// A Tor control-port client of our own (control-spec v1): one TCP connection, commands
// answered in order, async events to a listener. Every failure becomes an AppError with a
// tor.* reason; Tor's reply text goes only into `cause`, for the log.
import { connect, type Socket } from "node:net";
import { AppError } from "../../shared/errors.js";
import { authenticate, type TorAuth } from "./auth.js";
import { parseKeywords, type Reply, ReplyReader } from "./reply.js";

export type { TorAuth } from "./auth.js";

/** Where the control port is and how long a command may take. */
export interface ControlOptions {
  host: string;
  port: number;
  /** Per command and for connecting, default 10 s. */
  timeoutMs?: number;
}

/** Tor's progress towards a working network connection. */
export interface BootstrapState {
  /** 0–100. */
  readonly progress: number;
  readonly done: boolean;
  /** Tor's own short description, for logs and readiness detail. */
  readonly summary: string;
}

/** An async event line (650) as Tor sent it; only tor/ modules read these. */
export type EventListener = (event: string) => void;

interface Pending {
  readonly keyword: string;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: AppError) => void;
  readonly timer: NodeJS.Timeout;
}

/** Opens and authenticates a control connection; throws tor.unavailable / tor.auth_failed. */
export async function openControl(opts: ControlOptions, auth: TorAuth): Promise<TorControl> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: opts.host, port: opts.port, timeout: timeoutMs });
    s.once("connect", () => {
      s.setTimeout(0);
      resolve(s);
    });
    s.once("timeout", () => s.destroy(new Error("connect timed out")));
    s.once("error", (err) =>
      reject(
        new AppError("tor.unavailable", "Tor's control port cannot be reached", { cause: err }),
      ),
    );
  });
  const control = new TorControl(socket, timeoutMs);
  try {
    await authenticate(control, auth);
  } catch (err) {
    control.close();
    throw err;
  }
  return control;
}

/** One control connection. Commands may be issued concurrently; replies match in order. */
export class TorControl {
  private readonly pending: Pending[] = [];
  private readonly listeners = new Set<EventListener>();
  private failure: AppError | undefined;
  /** Resolves when the connection is gone, for whatever reason. */
  readonly closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    const reader = new ReplyReader((reply) => this.dispatch(reply));
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.fail(
          new AppError("tor.unavailable", "Tor's control port sent garbage", { cause: err }),
        );
      }
    });
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("error", (err) => this.fail(lost(err)));
    socket.on("close", () => this.fail(lost(new Error("connection closed"))));
  }

  /**
   * Sends one command line and resolves with its 2xx reply;
   * 5xx becomes tor.command_failed (tor.auth_failed for 514/515).
   */
  async command(line: string): Promise<Reply> {
    // A CR or LF inside an argument would smuggle a second command onto the connection.
    if (/[\r\n]/.test(line))
      throw new AppError("tor.command_failed", "a Tor command had a line break");
    if (this.failure) throw this.failure;
    const keyword = line.split(" ", 1)[0] as string;
    const reply = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The connection's order is unknown now: drop it, and every waiter with it.
        this.fail(new AppError("tor.unavailable", `Tor did not answer ${keyword} in time`));
      }, this.timeoutMs);
      this.pending.push({ keyword, resolve, reject, timer });
      this.socket.write(`${line}\r\n`);
    });
    if (reply.status >= 200 && reply.status < 300) return reply;
    const cause = new Error(`${keyword}: ${reply.status} ${reply.lines.at(-1)?.text ?? ""}`);
    if (reply.status === 514 || reply.status === 515) {
      throw new AppError("tor.auth_failed", "Tor's control port refused our credentials", {
        cause,
      });
    }
    throw new AppError("tor.command_failed", `Tor refused ${keyword}`, { cause });
  }

  /** GETINFO for keys; answers key → value (multi-line values joined with "\n"). */
  async getInfo(...keys: string[]): Promise<Map<string, string>> {
    const reply = await this.command(`GETINFO ${keys.join(" ")}`);
    const out = new Map<string, string>();
    for (const line of reply.lines) {
      const eq = line.text.indexOf("=");
      if (eq < 0) continue;
      const value = line.data ? line.data.join("\n") : line.text.slice(eq + 1);
      out.set(line.text.slice(0, eq), value);
    }
    return out;
  }

  /** Tor's bootstrap progress (GETINFO status/bootstrap-phase). */
  async bootstrap(): Promise<BootstrapState> {
    const phase = (await this.getInfo("status/bootstrap-phase")).get("status/bootstrap-phase");
    const words = parseKeywords(phase ?? "");
    const progress = Number(words.get("PROGRESS"));
    if (!Number.isInteger(progress)) {
      throw new AppError("tor.command_failed", "Tor's bootstrap phase is unreadable", {
        cause: new Error(`status/bootstrap-phase=${phase}`),
      });
    }
    return { progress, done: progress === 100, summary: words.get("SUMMARY") ?? "" };
  }

  /** Subscribes to async events (SETEVENTS replaces the set); returns the unsubscribe. */
  async events(names: string[], listener: EventListener): Promise<() => void> {
    this.listeners.add(listener);
    await this.command(`SETEVENTS ${names.join(" ")}`);
    return () => this.listeners.delete(listener);
  }

  /** Closes the connection (anything Tor keeps for it, like a non-detached onion, ends). */
  close(): void {
    this.socket.destroy();
  }

  private dispatch(reply: Reply): void {
    if (reply.status >= 600 && reply.status < 700) {
      const text = reply.lines.map((l) => [l.text, ...(l.data ?? [])].join("\n")).join("\n");
      for (const listener of this.listeners) listener(text);
      return;
    }
    const waiter = this.pending.shift();
    if (!waiter) {
      this.fail(new AppError("tor.unavailable", "Tor's control port sent an unexpected reply"));
      return;
    }
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }

  private fail(err: AppError): void {
    if (!this.failure) this.failure = err;
    for (const waiter of this.pending.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(this.failure);
    }
    this.socket.destroy();
  }
}

function lost(cause: Error): AppError {
  return new AppError("tor.unavailable", "the connection to Tor's control port was lost", {
    cause,
  });
}
