import { CONTROL_KEYS, type FieldRule, type MessageKind, type Rec } from "./fields";

/**
 * The compact form's field codec (pure): a message as short-key fields, whole or as what
 * changed since the previous message of the same stream, and back. Writers render the
 * inside of a JSON object (`"p":228.61,"t":1000`), so an entry's framing (its position,
 * its markers, the symbol) is added by concatenation, without parsing.
 *
 * A whole message carries every field, except derived ones equal to what a reader works out.
 * A delta carries only fields whose value changed: the new value, the difference for a
 * relative field, `null` for a field that is gone; a derived field only when the reader would
 * work out something else (where it cannot work one out: the previous value). Decoding either
 * gives back the plain body field by field.
 */

interface Compiled {
  kind: MessageKind;
  /** Field name → its rule and `"key":`, for writing. */
  byName: Map<string, { rule: FieldRule; prefix: string }>;
  /** Key → field name and rule, for reading. */
  byKey: Map<string, { name: string; rule: FieldRule }>;
  /** Derived fields in the order a reader applies them. */
  derived: Array<{ name: string; rule: FieldRule & { derive: NonNullable<FieldRule["derive"]> } }>;
}

const compiled = new WeakMap<MessageKind, Compiled>();

function compile(kind: MessageKind): Compiled {
  let c = compiled.get(kind);
  if (c) return c;
  c = { kind, byName: new Map(), byKey: new Map(), derived: [] };
  for (const [name, rule] of Object.entries(kind.fields)) {
    if (name === kind.position) continue;
    c.byName.set(name, { rule, prefix: `${JSON.stringify(rule.key)}:` });
    c.byKey.set(rule.key, { name, rule });
    if (rule.derive) c.derived.push({ name, rule: rule as Compiled["derived"][number]["rule"] });
  }
  compiled.set(kind, c);
  return c;
}

const CONTROL: ReadonlySet<string> = new Set(Object.values(CONTROL_KEYS));

/** JSON's view of a value: `undefined` (a field JSON.stringify leaves out) is no value. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `"key":value` of a field (its own name when the table has no row for it). */
function pair(c: Compiled, name: string, value: unknown): string {
  const known = c.byName.get(name);
  return (known ? known.prefix : `${JSON.stringify(name)}:`) + (value === undefined ? "null" : JSON.stringify(value));
}

/** Every field of `rec` (its position field aside), as the inside of a JSON object. */
export function encodeWhole(kind: MessageKind, rec: Rec): string {
  const c = compile(kind);
  const out: string[] = [];
  for (const name in rec) {
    const value = rec[name];
    if (value === undefined || name === kind.position) continue;
    const derive = c.byName.get(name)?.rule.derive;
    if (derive && same(derive(rec, undefined), value)) continue;
    out.push(pair(c, name, value));
  }
  // A derived field that is absent although a reader would work one out: say it is absent.
  for (const { name, rule } of c.derived) {
    if (rec[name] === undefined && rule.derive(rec, undefined) !== undefined) out.push(pair(c, name, undefined));
  }
  return out.join(",");
}

/**
 * What changed from `base` to `next`, as the inside of a JSON object ("" when nothing did);
 * `undefined` when a delta cannot say it (a relative field that is not a whole number).
 */
export function encodeDelta(kind: MessageKind, base: Rec, next: Rec): string | undefined {
  const c = compile(kind);
  const out: string[] = [];
  const visit = (name: string): boolean => {
    if (name === kind.position) return true;
    const value = next[name];
    const rule = c.byName.get(name)?.rule;
    if (rule?.derive) {
      if (!same(rule.derive(next, base) ?? base[name], value)) out.push(pair(c, name, value));
      return true;
    }
    const was = base[name];
    if (same(was, value)) return true;
    if (rule?.relative && typeof was === "number" && typeof value === "number") {
      const diff = value - was;
      if (!Number.isSafeInteger(diff) || was + diff !== value) return false;
      out.push(pair(c, name, diff));
      return true;
    }
    out.push(pair(c, name, value));
    return true;
  };
  for (const name in next) if (!visit(name)) return undefined;
  for (const name in base) if (!(name in next) && !visit(name)) return undefined;
  // Derived fields neither message has, but which a reader would work out now.
  for (const { name } of c.derived) if (!(name in next) && !(name in base)) visit(name);
  return out.join(",");
}

/**
 * The body an entry stands for: a whole one (`base` undefined) or a delta applied to the
 * previous body of its stream. `seq`, when the kind has a position field, is written into it.
 */
export function decodeFields(kind: MessageKind, entry: Rec, base: Rec | undefined, seq?: number): Rec {
  const c = compile(kind);
  const rec: Rec = base ? { ...base } : {};
  const explicit = new Map<string, unknown>();
  for (const key in entry) {
    if (CONTROL.has(key)) continue;
    const value = entry[key];
    const known = c.byKey.get(key);
    const name = known?.name ?? key;
    if (known?.rule.derive) {
      explicit.set(name, value);
      continue;
    }
    if (value === null) delete rec[name];
    else if (known?.rule.relative && base && typeof base[name] === "number" && typeof value === "number")
      rec[name] = base[name] + value;
    else rec[name] = value;
  }
  for (const { name, rule } of c.derived) {
    const value = explicit.has(name) ? explicit.get(name) : (rule.derive(rec, base) ?? base?.[name]);
    if (value === null || value === undefined) delete rec[name];
    // As JSON carries it: a computed -0 is the plain body's 0.
    else rec[name] = value === 0 ? 0 : value;
  }
  if (kind.position !== undefined && seq !== undefined) rec[kind.position] = seq;
  return rec;
}
