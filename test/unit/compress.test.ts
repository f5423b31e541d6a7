import { describe, expect, it } from "vitest";
import { chooseEncoding, compressAsset } from "../../worker/http/compress";

describe("static file compression (npm start)", () => {
  it("prefers br, then gzip, honours q=0 and *, and sends identity otherwise", () => {
    expect(chooseEncoding("gzip, deflate, br, zstd")).toBe("br");
    expect(chooseEncoding("gzip")).toBe("gzip");
    expect(chooseEncoding("br;q=0, gzip;q=0.8")).toBe("gzip");
    expect(chooseEncoding("*")).toBe("br");
    expect(chooseEncoding("*, br;q=0")).toBe("gzip");
    expect(chooseEncoding("identity")).toBeUndefined();
    expect(chooseEncoding("")).toBeUndefined();
    expect(chooseEncoding(null)).toBeUndefined();
  });

  const asset = (type: string, status = 200) =>
    new Response(status === 304 ? null : "x".repeat(100), {
      status,
      headers: { "content-type": type, etag: '"abc"', "content-length": "100" },
    });
  const request = (ae?: string) => new Request("http://h/widget.js", { headers: ae ? { "accept-encoding": ae } : {} });

  it("marks text for the runtime to encode, with a weak ETag and Vary; leaves images and 304s alone", () => {
    const js = compressAsset(request("gzip"), asset("text/javascript; charset=utf-8"));
    expect(js.headers.get("content-encoding")).toBe("gzip");
    expect(js.headers.get("content-length")).toBeNull();
    expect(js.headers.get("etag")).toBe('W/"abc"');
    expect(js.headers.get("vary")).toBe("Accept-Encoding");
    const plain = compressAsset(request(), asset("text/css"));
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(plain.headers.get("vary")).toBe("Accept-Encoding");
    expect(compressAsset(request("br"), asset("image/png")).headers.get("content-encoding")).toBeNull();
    expect(compressAsset(request("br"), asset("text/html", 304)).headers.get("content-encoding")).toBeNull();
  });
});
