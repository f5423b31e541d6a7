/**
 * The few parts of a browser the client uses, where there is one (Node has none). Typed
 * here, so the library builds and type-checks without the DOM's declarations.
 */
interface BrowserGlobals {
  document?: {
    hidden: boolean;
    head: { append(node: unknown): void };
    createElement(tag: "script"): { src: string; async: boolean; onload: () => void; onerror: () => void };
    addEventListener(type: "visibilitychange", listener: () => void): void;
    removeEventListener(type: "visibilitychange", listener: () => void): void;
  };
  addEventListener?(type: "online", listener: () => void): void;
  removeEventListener?(type: "online", listener: () => void): void;
}

export const browser = globalThis as BrowserGlobals;
