/** The slice of sockjs-client's API we use (the library is loaded on demand). */
export interface SockJSLike extends WebSocket {
  readonly transport?: string;
}
type SockJSCtor = new (url: string, reserved?: null, options?: { transports?: string[] }) => SockJSLike;

let loading: Promise<SockJSCtor> | undefined;

/**
 * Loads sockjs-client from the ticker's own host (never a CDN), once. It is only
 * needed when WebSocket fails, so it stays out of the initial bundle.
 */
export function loadSockJS(host: string): Promise<SockJSCtor> {
  const existing = (globalThis as { SockJS?: SockJSCtor }).SockJS;
  if (existing) return Promise.resolve(existing);
  loading ??= new Promise<SockJSCtor>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `${host}/lib/sockjs.min.js`;
    script.async = true;
    script.onload = () => {
      const ctor = (globalThis as { SockJS?: SockJSCtor }).SockJS;
      if (ctor) resolve(ctor);
      else reject(new Error("sockjs-client did not load"));
    };
    script.onerror = () => {
      loading = undefined;
      reject(new Error("could not load sockjs-client"));
    };
    document.head.append(script);
  });
  return loading;
}
