/**
 * docs/configuration.md cannot drift from the code: every variable the worker reads is in its
 * table, nothing else is, the "Unset" column is config.ts's default, and the "wrangler.toml"
 * column is what wrangler.toml ships.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(resolve(ROOT, path), "utf8");

/** Rows of the table: a row may name several variables (`A`, `B`) with one value each. */
function docRows(): { names: string[]; unset: string; toml: string }[] {
  return read("docs/configuration.md")
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [names = "", unset = "", toml = ""] = line
        .slice(1)
        .split(" | ")
        .map((c) => c.trim());
      return { names: [...names.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!), unset, toml };
    });
}

/** `[vars]` of wrangler.toml. */
function tomlVars(): Map<string, string> {
  const vars = read("wrangler.toml")
    .split(/^\[vars\]$/m)[1]!
    .split(/^\[/m)[0]!;
  return new Map([...vars.matchAll(/^([A-Z][A-Z0-9_]*) = "(.*)"$/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * Defaults of the numeric and boolean vars as config.ts reads them (`int(env, "X", 5_000, …)`),
 * except those read only when set (`env.X ? int(env, "X", …) : undefined`).
 */
function configDefaults(): Map<string, string> {
  const source = read("worker/config.ts");
  const out = new Map<string, string>();
  for (const m of source.matchAll(/\b(?:int|bool)\(env, "([A-Z0-9_]+)", ([0-9_]+|true|false)\b/g)) {
    if (new RegExp(`env\\.${m[1]}\\s*\\?\\s`).test(source)) continue;
    const value = m[2]!.replaceAll("_", "");
    expect(out.get(m[1]!) ?? value, `${m[1]} has two defaults in config.ts`).toBe(value);
    out.set(m[1]!, value);
  }
  return out;
}

describe("docs/configuration.md", () => {
  const rows = docRows();
  const documented = rows.flatMap((r) => r.names);

  it("names every variable the worker reads, and only those", () => {
    // Env = the generated wrangler.toml vars plus the optional ones worker/env.ts declares.
    const optional = [...read("worker/env.ts").matchAll(/^\s+([A-Z][A-Z0-9_]*)\?: string;/gm)].map((m) => m[1]!);
    const read_ = new Set([...tomlVars().keys(), ...optional]);
    expect(documented.length).toBeGreaterThan(40);
    expect(new Set(documented).size, "a variable is documented twice").toBe(documented.length);
    expect(
      [...read_].filter((v) => !documented.includes(v)),
      "missing from the table",
    ).toEqual([]);
    expect(
      documented.filter((v) => !read_.has(v)),
      "documented but never read",
    ).toEqual([]);
  });

  it("gives what wrangler.toml ships", () => {
    const toml = tomlVars();
    for (const { names, toml: cell } of rows) {
      const shipped = names.filter((n) => toml.has(n)).map((n) => `\`${toml.get(n) || '""'}\``);
      expect(cell, names.join(", ")).toBe(shipped.length ? shipped.join(", ") : "–");
    }
  });

  it("gives config.ts's default for every numeric and boolean variable", () => {
    const defaults = configDefaults();
    expect(defaults.get("HUB_FLUSH_MS")).toBeDefined();
    for (const { names, unset } of rows) {
      if (!names.every((n) => defaults.has(n))) continue;
      expect(unset, names.join(", ")).toBe(names.map((n) => `\`${defaults.get(n)}\``).join(", "));
    }
  });
});
