import type { Command } from "commander";
import type { DatabasePool } from "slonik";
import { bootstrapAdminKey, createApiKey, listApiKeys, revokeApiKey } from "../core/auth/keys.js";
import { parseRoleName, roleProtoName } from "../core/auth/roles.js";
import { migrate } from "../core/db/migrate.js";
import { openDatabase } from "../core/db/pool.js";
import type { Role } from "../gen/tronpay/v1/options_pb.js";

/** Who the audit log names for changes made from this command line. */
const CLI_ACTOR = "cli";

interface CreateOptions {
  name: string;
  role: Role[];
  owner: string;
  expiresIn?: string;
  allowIp: string[];
}

/**
 * `tronpay keys …`: create, list and revoke API keys directly in the database (DATABASE_URL).
 * This is how the first admin key is made, and the way back in when every admin key is lost.
 */
export function registerKeyCommands(program: Command): void {
  const keys = program.command("keys").description("manage API keys (needs DATABASE_URL)");

  keys
    .command("create")
    .description("create an API key and print it once")
    .requiredOption("--name <name>", "name for people, 1–100 characters")
    .requiredOption(
      "--role <role>",
      "a role to grant (admin, operator, approver, auditor, service); repeatable",
      collectRole,
      [],
    )
    .option("--expires-in <duration>", "lifetime, e.g. 90m, 12h, 30d, 8w")
    .option(
      "--owner <owner>",
      "who the key acts for; approval needs a key of another owner",
      CLI_ACTOR,
    )
    .option(
      "--allow-ip <cidr>",
      "accept the key only from this address or range; repeatable",
      collect,
      [],
    )
    .action(async (opts: CreateOptions) => {
      await withDatabase(async (pool) => {
        const now = Date.now();
        const expiresAt =
          opts.expiresIn === undefined ? undefined : now + parseDuration(opts.expiresIn);
        const created = await pool.transaction((tx) =>
          createApiKey(tx, {
            name: opts.name,
            roles: opts.role,
            owner: opts.owner,
            createdBy: CLI_ACTOR,
            now,
            expiresAt,
            allowedIps: opts.allowIp,
          }),
        );
        process.stdout.write(
          `Created API key ${created.id} (${opts.role.map(roleProtoName).join(", ")}).\n\n` +
            `Store it now; it is shown only once:\n\n  ${created.key}\n\n`,
        );
      });
    });

  keys
    .command("bootstrap")
    .description("create an admin key only if the database has no API key yet")
    .option("--name <name>", "name for people", "bootstrap admin")
    .action(async (opts: { name: string }) => {
      await withDatabase(async (pool) => {
        const created = await bootstrapAdminKey(pool, opts.name);
        if (!created) {
          process.stdout.write("API keys exist already; nothing created.\n");
          return;
        }
        process.stdout.write(
          `Created admin key ${created.id}. Shown only once:\n\n  ${created.key}\n\n`,
        );
      });
    });

  keys
    .command("list")
    .description("list API keys, newest first (never their secrets)")
    .option("--all", "include revoked and expired keys", false)
    .action(async (opts: { all: boolean }) => {
      await withDatabase(async (pool) => {
        let pageToken = "";
        do {
          const page = await listApiKeys(pool, {
            includeInactive: opts.all,
            now: Date.now(),
            pageSize: 500,
            pageToken,
          });
          for (const k of page.apiKeys) process.stdout.write(`${describeKey(k)}\n`);
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
      });
    });

  keys
    .command("revoke <id>")
    .description("revoke an API key at once")
    .option("--reason <text>", "why; stored in the audit log", "")
    .action(async (id: string, opts: { reason: string }) => {
      await withDatabase(async (pool) => {
        await pool.transaction((tx) =>
          revokeApiKey(tx, { id, by: CLI_ACTOR, reason: opts.reason, now: Date.now() }),
        );
        process.stdout.write(`Revoked API key ${id}.\n`);
      });
    });
}

/** Milliseconds of a duration like "90m", "12h", "30d" or "8w"; throws on anything else. */
export function parseDuration(text: string): number {
  const m = /^([1-9]\d{0,5})([mhdw])$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text} (use e.g. 90m, 12h, 30d, 8w)`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
    m[2] as "m" | "h" | "d" | "w"
  ];
  return Number(m[1]) * unit;
}

function collectRole(value: string, previous: Role[]): Role[] {
  const role = parseRoleName(value);
  if (role === undefined) throw new Error(`unknown role: ${value}`);
  return [...previous, role];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function describeKey(k: Awaited<ReturnType<typeof listApiKeys>>["apiKeys"][number]): string {
  const state = k.revokedAt ? "revoked" : "active";
  const expires = k.expiresAt
    ? new Date(Number(k.expiresAt.seconds) * 1000).toISOString()
    : "never";
  return `${k.id}  ${state}  ${k.roles.map(roleProtoName).join(",")}  expires ${expires}  ${k.name}`;
}

async function withDatabase(work: (pool: DatabasePool) => Promise<void>): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set");
  const pool = await openDatabase(url, 2);
  try {
    await migrate(pool);
    await work(pool);
  } finally {
    await pool.end();
  }
}
