import { describe, expect, it } from "vitest";
import { readConfig } from "../../worker/config";
import { isOriginAllowed } from "../../worker/http/origin";

const SELF = "https://ticker.example.com/ws/AAPL";
const config = (ALLOWED_ORIGINS: string, REQUIRE_ORIGIN = "false") =>
  readConfig({ ALLOWED_ORIGINS, REQUIRE_ORIGIN } as never);

describe("isOriginAllowed", () => {
  it("allows same-origin pages and exact entries; refuses the rest", () => {
    const c = config("https://a.example, http://localhost:3000/");
    expect(isOriginAllowed("https://ticker.example.com", SELF, c)).toBe(true);
    expect(isOriginAllowed("https://a.example", SELF, c)).toBe(true);
    expect(isOriginAllowed("http://localhost:3000", SELF, c)).toBe(true);
    expect(isOriginAllowed("http://a.example", SELF, c)).toBe(false);
    expect(isOriginAllowed("https://a.example:8443", SELF, c)).toBe(false);
    expect(isOriginAllowed("https://a.example.evil.com", SELF, c)).toBe(false);
    expect(isOriginAllowed("null", SELF, c)).toBe(false);
    expect(isOriginAllowed("not a url", SELF, c)).toBe(false);
  });
  it("matches https://*.host wildcards on subdomains only, and * on anything", () => {
    const c = config("https://*.example.org");
    expect(isOriginAllowed("https://shop.example.org", SELF, c)).toBe(true);
    expect(isOriginAllowed("https://a.b.example.org", SELF, c)).toBe(true);
    expect(isOriginAllowed("https://example.org", SELF, c)).toBe(false);
    expect(isOriginAllowed("http://shop.example.org", SELF, c)).toBe(false);
    expect(isOriginAllowed("https://evilexample.org", SELF, c)).toBe(false);
    expect(isOriginAllowed("https://anything.test", SELF, config("*"))).toBe(true);
  });
  it("lets clients without Origin in unless REQUIRE_ORIGIN is set", () => {
    expect(isOriginAllowed(null, SELF, config(""))).toBe(true);
    expect(isOriginAllowed(null, SELF, config("", "true"))).toBe(false);
  });
  it("fails loudly on a bad numeric var", () => {
    expect(() => readConfig({ TICK_INTERVAL_MS: "fast" } as never)).toThrow(/TICK_INTERVAL_MS="fast"/);
  });
});
