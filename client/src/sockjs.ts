import { browser } from "./browser";

/** The slice of sockjs-client's API the client uses (the library is loaded only when needed). */
export interface SockJSLike extends WebSocket {
  readonly transport?: string;
}
export type SockJSConstructor = new (url: string, reserved?: null, options?: { transports?: string[] }) => SockJSLike;
/** Loads sockjs-client for the host at `url`. */
export type SockJSLoader = (url: string) => Promise<SockJSConstructor>;

/** Kept in a variable so that bundlers leave the optional dependency out of the bundle. */
const SOCKJS_PACKAGE = "sockjs-client";
let loading: Promise<SockJSConstructor> | undefined;

/**
 * sockjs-client, once, when a connection first needs it, in a browser: the page's own
 * global if it has one, else from the Edge Ticker host itself (`/lib/sockjs.min.js`,
 * never a CDN).
 */
export const fromHost: SockJSLoader = (host) => {
  const existing = (globalThis as { SockJS?: SockJSConstructor }).SockJS;
  if (existing) return Promise.resolve(existing);
  loading ??= new Promise<SockJSConstructor>((resolve, reject) => {
    // Without a document (Node), this throws: the promise rejects, and the attempt goes out on WebSocket.
    const document = browser.document!;
    const script = document.createElement("script");
    script.src = `${host}/lib/sockjs.min.js`;
    script.async = true;
    script.onload = () => {
      const ctor = (globalThis as { SockJS?: SockJSConstructor }).SockJS;
      if (ctor) resolve(ctor);
      else script.onerror();
    };
    script.onerror = () => reject(new Error(`could not load ${script.src}`));
    document.head.append(script);
  }).catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
};

/** In a browser as `fromHost`; elsewhere (Node) the `sockjs-client` package, an optional dependency. */
export const loadSockJS: SockJSLoader = async (host) => {
  if (browser.document) return fromHost(host);
  const module = (await import(/* @vite-ignore */ SOCKJS_PACKAGE)) as { default: SockJSConstructor };
  return module.default;
};
