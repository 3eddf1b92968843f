import type {
  DescMessage,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { createContextKey, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { DatabasePool, DatabaseTransactionConnection } from "slonik";
import { accessOf } from "../../shared/api.js";
import { principalOf } from "./context.js";
import { idempotent } from "./idempotency.js";

/**
 * The one idempotent write: every RPC the protos mark `(tronpay.v1.access).write` is served
 * through `idempotent()` (idempotency.ts) by this wrapper, applied where services are
 * registered (routes.ts). The method, its request and response schemas and the principal come
 * from the HandlerContext, so a handler holds no idempotency code and no method name; it reads
 * its transaction with `writeTx(ctx)`. What some writes need besides is declared per method
 * (WriteHooks), next to the handlers, and handed over at registration.
 */

/** The hooks a write may declare; each is optional. */
export interface WriteHooks<I extends DescMessage, O extends DescMessage> {
  /**
   * Request checks that need no database: run before the idempotency key is checked and the
   * transaction opens, so a bad request costs no transaction and its error wins over a key
   * error.
   */
  check?: (req: MessageShape<I>, ctx: HandlerContext) => unknown;
  /** Whose key space the key is in, for a call without an authenticated principal. */
  principal?: (req: MessageShape<I>) => string;
  /** The answer stored (and replayed) in place of the one sent: e.g. without its secret. */
  stored?: (answer: MessageShape<O>) => MessageInitShape<O>;
  /** The answer sent, first time and replay alike, from the committed one (e.g. current state). */
  reply?: (
    answer: MessageShape<O>,
    req: MessageShape<I>,
    ctx: HandlerContext,
  ) => Promise<MessageShape<O>>;
  /** Runs after the write failed and its transaction rolled back; throws what to answer. */
  failed?: (err: unknown, req: MessageShape<I>) => Promise<never>;
}

type HooksOf<M> = M extends DescMethodUnary<infer I, infer O> ? WriteHooks<I, O> : never;

/** The hooks of a service's writes, by the method's local name (as in ServiceImpl). */
export type WriteOptions<S extends DescService> = {
  [K in keyof S["method"]]?: HooksOf<S["method"][K]>;
};

const writeTxKey = createContextKey<DatabaseTransactionConnection | undefined>(undefined, {
  description: "idempotent write transaction",
});

/**
 * The transaction a write handler works in (the one its answer is stored in). Throws when the
 * handler was not served as a write: a wiring bug, or a handler for a read asking for one.
 */
export function writeTx(ctx: HandlerContext): DatabaseTransactionConnection {
  const tx = ctx.values.get(writeTxKey);
  if (!tx) throw new Error(`${ctx.method.name} is not served as an idempotent write`);
  return tx;
}

// The handlers this wrapper made, so a test can tell that every write went through it.
const wrapped = new WeakSet<object>();

/** True for a handler `idempotentWrites` made. */
export function isIdempotentWrite(handler: unknown): boolean {
  return typeof handler === "function" && wrapped.has(handler);
}

/** The RPC's full name as stored in idempotency_keys.method. */
function fullName(ctx: HandlerContext): string {
  return `${ctx.method.parent.typeName}/${ctx.method.name}`;
}

type Unary = (req: MessageShape<DescMessage>, ctx: HandlerContext) => unknown;

function asWrite(pool: DatabasePool, handler: Unary, hooks: WriteHooks<DescMessage, DescMessage>) {
  const write = async (req: MessageShape<DescMessage>, ctx: HandlerContext) => {
    await hooks.check?.(req, ctx);
    const principal = hooks.principal ? hooks.principal(req) : principalOf(ctx).id;
    const call = {
      principal,
      method: fullName(ctx),
      requestSchema: ctx.method.input,
      request: req as MessageShape<DescMessage> & { idempotencyKey: string },
      responseSchema: ctx.method.output,
      stored: hooks.stored,
    };
    const done = idempotent(pool, call, async (tx) => {
      ctx.values.set(writeTxKey, tx);
      try {
        return (await handler(req, ctx)) as MessageInitShape<DescMessage>;
      } finally {
        ctx.values.delete(writeTxKey);
      }
    });
    const { failed } = hooks;
    const answer = await (failed ? done.catch((err: unknown) => failed(err, req)) : done);
    return hooks.reply ? hooks.reply(answer, req, ctx) : answer;
  };
  wrapped.add(write);
  return write;
}

/**
 * `impl` with every write of `service` served idempotently. Throws at registration for hooks
 * given to a read or an absent method, and for a write that is not unary or takes no key.
 */
export function idempotentWrites<S extends DescService>(
  pool: DatabasePool,
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options: WriteOptions<S> = {},
): Partial<ServiceImpl<S>> {
  const handlers = impl as Record<string, Unary | undefined>;
  const hooksOf = options as Record<string, WriteHooks<DescMessage, DescMessage> | undefined>;
  const out: Record<string, unknown> = { ...impl };
  const known = new Set(service.methods.map((m) => m.localName));
  for (const name of Object.keys(hooksOf)) {
    if (!known.has(name)) throw new Error(`${service.typeName} has no method ${name}`);
  }
  for (const method of service.methods) {
    const handler = handlers[method.localName];
    const hooks = hooksOf[method.localName];
    const name = `${service.typeName}/${method.name}`;
    if (accessOf(method)?.write !== true) {
      if (hooks) throw new Error(`${name} is not a write; it takes no write hooks`);
      continue;
    }
    if (method.methodKind !== "unary") throw new Error(`${name}: only unary RPCs can be writes`);
    if (!method.input.fields.some((f) => f.localName === "idempotencyKey"))
      throw new Error(`${name} is a write without an idempotency_key`);
    if (handler) out[method.localName] = asWrite(pool, handler, hooks ?? {});
  }
  return out as Partial<ServiceImpl<S>>;
}
