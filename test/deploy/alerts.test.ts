import { describe, expect, it } from "vitest";
import { obj, readText, readYaml, type Tree } from "./files.js";

const FILE = "deploy/alerts.rules.yml";
const text = readText(FILE);
const groups = obj(readYaml(FILE), FILE).groups as Tree[];
const rules = groups.flatMap((g) => g.rules as Tree[]);

/** The metric names the file's header declares, the contract with the metrics code. */
const declared = new Set([...text.matchAll(/^#\s+(tronpay_[a-z_]+)/gm)].map((m) => m[1]));

/** GitHub-style heading anchors of docs/runbook.md. */
const anchors = new Set(
  readText("docs/runbook.md")
    .split("\n")
    .filter((l) => /^#{2,3} /.test(l))
    .map((l) =>
      l
        .replace(/^#+ /, "")
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, "")
        .replace(/ /g, "-"),
    ),
);

describe("deploy/alerts.rules.yml", () => {
  it("has uniquely named groups and alerts", () => {
    expect(groups.length).toBeGreaterThan(0);
    expect(new Set(groups.map((g) => g.name)).size).toBe(groups.length);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it("gives every rule an expr, a for, a severity label and its annotations", () => {
    for (const r of rules) {
      const name = String(r.alert);
      expect(String(r.expr ?? "").trim(), name).not.toBe("");
      expect(String(r.for), name).toMatch(/^\d+[smh]$/);
      expect(["critical", "warning", "info"], name).toContain(obj(r.labels, name).severity);
      const a = obj(r.annotations, name);
      for (const key of ["summary", "description", "runbook_url"])
        expect(String(a[key] ?? ""), `${name} ${key}`).not.toBe("");
    }
  });

  it("covers the conditions operators are paged for", () => {
    const exprs = rules.map((r) => String(r.expr)).join("\n");
    for (const metric of [
      "tronpay_payout_oldest_age_seconds",
      "tronpay_payout_confirmation_seconds_bucket",
      "tronpay_chain_node_up",
      "tronpay_chain_breaker_open",
      "tronpay_wallet_trx_balance_sun",
      "tronpay_wallet_energy_available",
      "tronpay_webhook_endpoint_failing",
      "tronpay_audit_chain_ok",
    ])
      expect(exprs).toContain(metric);
  });

  it("uses only metric names declared in the file's header", () => {
    for (const r of rules) {
      const used = String(r.expr).match(/tronpay_[a-z_]+/g) ?? [];
      for (const m of used) {
        const family = m.replace(/_(bucket|sum|count)$/, "");
        expect(declared.has(family), `${r.alert}: ${m}`).toBe(true);
      }
    }
  });

  it("links every alert to a section of docs/runbook.md that exists", () => {
    for (const r of rules) {
      const url = String(obj(r.annotations, String(r.alert)).runbook_url);
      expect(url, String(r.alert)).toMatch(/^docs\/runbook\.md#/);
      expect(anchors, url).toContain(url.split("#")[1]);
    }
  });
});
