import { browser } from "./browser";

/** The slice of sockjs-client's API the client uses (the library is loaded only when needed). */
export interface SockJSLike extends WebSocket {
  readonly transport?: string;
}
export type SockJSConstructor = new (url: string, reserved?: null, options?: { transports?: string[] }) => SockJSLike;

/** Kept in a variable so that bundlers leave the optional dependency out of the bundle. */
const SOCKJS_PACKAGE = "sockjs-client";
let loading: Promise<SockJSConstructor> | undefined;

/**
 * sockjs-client, once, when a connection first needs it: the page's own global if it has
 * one; in a browser, from the Edge Ticker host itself (`/lib/sockjs.min.js`, never a CDN);
 * elsewhere (Node), the `sockjs-client` package, an optional dependency.
 */
export function loadSockJS(host: string): Promise<SockJSConstructor> {
  const existing = (globalThis as { SockJS?: SockJSConstructor }).SockJS;
  if (existing) return Promise.resolve(existing);
  const document = browser.document;
  loading ??= (document ? fromHost(document, host) : fromPackage()).catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

async function fromPackage(): Promise<SockJSConstructor> {
  const module = (await import(/* @vite-ignore */ SOCKJS_PACKAGE)) as { default: SockJSConstructor };
  return module.default;
}

function fromHost(document: NonNullable<typeof browser.document>, host: string): Promise<SockJSConstructor> {
  return new Promise<SockJSConstructor>((resolve, reject) => {
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
  });
}
