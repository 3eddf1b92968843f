import { Role } from "../../gen/tronpay/v1/options_pb.js";
import { AppError } from "../../shared/errors.js";

/** How roles are spelled in the database (api_keys.roles has a CHECK on these). */
const DB_NAMES: ReadonlyMap<Role, string> = new Map([
  [Role.ADMIN, "admin"],
  [Role.OPERATOR, "operator"],
  [Role.APPROVER, "approver"],
  [Role.AUDITOR, "auditor"],
  [Role.SERVICE, "service"],
]);
const BY_DB_NAME: ReadonlyMap<string, Role> = new Map([...DB_NAMES].map(([r, n]) => [n, r]));

/** The database name of a role ("admin"); throws request.invalid for ROLE_UNSPECIFIED. */
export function roleToDb(role: Role): string {
  const name = DB_NAMES.get(role);
  if (name === undefined) {
    throw new AppError("request.invalid", "roles must name known roles", {
      metadata: { field: "roles" },
    });
  }
  return name;
}

/** The role a database name stands for; throws on a name the CHECK should have kept out. */
export function roleFromDb(name: string): Role {
  const role = BY_DB_NAME.get(name);
  if (role === undefined) throw new Error(`unknown role in database: ${name}`);
  return role;
}

/** Parses a role as people type it: "admin" or "ROLE_ADMIN", any case. */
export function parseRoleName(text: string): Role | undefined {
  const lower = text.toLowerCase().replace(/^role_/, "");
  return BY_DB_NAME.get(lower);
}

/** The proto name of a role ("ROLE_ADMIN"); shared with the edge. */
export { roleProtoName } from "../../shared/api.js";

/** Sorted, de-duplicated roles, checked to be known and non-empty. */
export function normalizeRoles(roles: readonly Role[]): Role[] {
  const unique = [...new Set(roles)].sort((a, b) => a - b);
  if (unique.length === 0) {
    throw new AppError("request.invalid", "at least one role is required", {
      metadata: { field: "roles" },
    });
  }
  for (const r of unique) roleToDb(r);
  return unique;
}
