import type { PathTemplate } from "./path-template.js";

/** A route trie over parsed path templates: a literal segment beats `*`, which beats `**`. */

interface Node<T> {
  literals: Map<string, Node<T>>;
  wildcard: Node<T> | undefined;
  /** The leaves of a trailing `**`, which swallows every remaining segment. */
  deep: Map<string, Map<string, T>> | undefined;
  /** verb ("" for none) → HTTP method → route. */
  leaves: Map<string, Map<string, T>>;
}

/** The outcome of a lookup. */
export type Match<T> =
  | { kind: "found"; route: T; segments: string[] }
  | { kind: "methodNotAllowed"; allow: string[] }
  | { kind: "notFound" };

function node<T>(): Node<T> {
  return { literals: new Map(), wildcard: undefined, deep: undefined, leaves: new Map() };
}

/** Routes by (HTTP method, path template). */
export class RouteTrie<T> {
  private readonly root: Node<T> = node();

  /** Adds a route; throws if the same method and template shape is already taken. */
  add(httpMethod: string, template: PathTemplate, route: T): void {
    let at = this.root;
    let leaves: Map<string, Map<string, T>> | undefined;
    for (const seg of template.segments) {
      if (seg.kind === "literal") {
        const next = at.literals.get(seg.value) ?? node<T>();
        at.literals.set(seg.value, next);
        at = next;
      } else if (seg.kind === "wildcard") {
        at.wildcard ??= node<T>();
        at = at.wildcard;
      } else {
        at.deep ??= new Map();
        leaves = at.deep;
      }
    }
    leaves ??= at.leaves;
    const verb = template.verb ?? "";
    const byMethod = leaves.get(verb) ?? new Map<string, T>();
    if (byMethod.has(httpMethod))
      throw new Error(`duplicate route ${httpMethod} ${template.source}`);
    byMethod.set(httpMethod, route);
    leaves.set(verb, byMethod);
  }

  /**
   * Finds the route for a method and raw URL path (no query). Segments come back
   * percent-decoded; undefined segments mean the path is not valid percent-encoding.
   */
  match(httpMethod: string, path: string): Match<T> | undefined {
    const raw = path.startsWith("/") ? path.slice(1).split("/") : [];
    const candidates = splitVerbCandidates(raw);
    const allow = new Set<string>();
    for (const { segments, verb } of candidates) {
      const decoded = decodeAll(segments);
      if (!decoded) return undefined;
      for (const byVerb of this.walk(this.root, decoded, 0)) {
        const byMethod = byVerb.get(verb);
        if (!byMethod) continue;
        const route = byMethod.get(httpMethod);
        if (route !== undefined) return { kind: "found", route, segments: decoded };
        for (const m of byMethod.keys()) allow.add(m);
      }
      // A custom verb that exists for other methods is that route, not an id ending in ":verb"
      // (GET /v1/payouts/p_1:cancel is a 405, not a lookup of payout "p_1:cancel").
      if (verb !== "" && allow.size > 0) break;
    }
    if (allow.size > 0) return { kind: "methodNotAllowed", allow: [...allow].sort() };
    return { kind: "notFound" };
  }

  /** Every leaf set the segments reach, best first (literal, then `*`, then `**`). */
  private *walk(
    at: Node<T>,
    segs: readonly string[],
    i: number,
  ): Generator<Map<string, Map<string, T>>> {
    if (i === segs.length) {
      yield at.leaves;
    } else {
      const seg = segs[i] as string;
      const literal = at.literals.get(seg);
      if (literal) yield* this.walk(literal, segs, i + 1);
      if (at.wildcard && seg !== "") yield* this.walk(at.wildcard, segs, i + 1);
    }
    if (at.deep) yield at.deep;
  }
}

/** With a verb split off the last segment first (it is the likelier reading), then without. */
function splitVerbCandidates(raw: string[]): { segments: string[]; verb: string }[] {
  const out: { segments: string[]; verb: string }[] = [];
  const last = raw[raw.length - 1] ?? "";
  const colon = last.lastIndexOf(":");
  if (colon > 0) {
    out.push({
      segments: [...raw.slice(0, -1), last.slice(0, colon)],
      verb: last.slice(colon + 1),
    });
  }
  out.push({ segments: raw, verb: "" });
  return out;
}

function decodeAll(segments: string[]): string[] | undefined {
  try {
    return segments.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}
