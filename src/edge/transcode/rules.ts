import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import { httpRuleOf, publicServices } from "../../shared/api.js";
import { type PathTemplate, parsePathTemplate } from "./path-template.js";
import { RouteTrie } from "./trie.js";

/** One REST binding of an RPC, read from its google.api.http annotation. */
export interface RestRoute {
  method: DescMethod;
  httpMethod: string;
  template: PathTemplate;
  /** "*" (the whole request), a top-level field name, or "" (no body). */
  body: string;
  /** A response field to answer with instead of the whole response; "" for the whole. */
  responseBody: string;
}

/** The bindings of one rule and its additional_bindings. */
function bindingsOf(method: DescMethod, rule: HttpRule): RestRoute[] {
  const routes: RestRoute[] = [];
  const pattern = rule.pattern;
  if (pattern.case !== undefined) {
    const [httpMethod, path] =
      pattern.case === "custom"
        ? [pattern.value.kind.toUpperCase(), pattern.value.path]
        : [pattern.case.toUpperCase(), pattern.value];
    routes.push({
      method,
      httpMethod,
      template: parsePathTemplate(path),
      body: rule.body,
      responseBody: rule.responseBody,
    });
  }
  for (const extra of rule.additionalBindings) routes.push(...bindingsOf(method, extra));
  return routes;
}

/** Every REST route the services declare, in declaration order; nothing is listed by hand. */
export function restRoutesOf(services: readonly DescService[] = publicServices): RestRoute[] {
  const routes: RestRoute[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      const rule = httpRuleOf(method);
      if (rule) routes.push(...bindingsOf(method, rule));
    }
  }
  return routes;
}

/** A trie over the given routes. */
export function buildRouteTrie(routes: readonly RestRoute[]): RouteTrie<RestRoute> {
  const trie = new RouteTrie<RestRoute>();
  for (const route of routes) trie.add(route.httpMethod, route.template, route);
  return trie;
}
