import type { SockJSOptions } from "../../config";

/**
 * The services the SockJS protocol test suite expects (sockjs-protocol 0.3.3), mounted
 * under /sockjs-test/ only when SOCKJS_TEST_SERVICES=true. Each is hosted by one
 * SockJSTestObject named after it.
 */
export const TEST_SERVICES = {
  echo: { behaviour: "echo", options: {} },
  close: { behaviour: "close", options: {} },
  disabled_websocket_echo: { behaviour: "echo", options: { websocket: false } },
  cookie_needed_echo: { behaviour: "echo", options: { cookieNeeded: true } },
} as const satisfies Record<string, { behaviour: "echo" | "close"; options: Partial<SockJSOptions> }>;

export type TestServiceName = keyof typeof TEST_SERVICES;

/** The suite's response-limit tests expect streaming responses closed after 4 KiB. */
const TEST_RESPONSE_LIMIT = 4096;

export function isTestService(name: string): name is TestServiceName {
  return Object.hasOwn(TEST_SERVICES, name);
}

export function testServiceOptions(name: TestServiceName, base: SockJSOptions): SockJSOptions {
  return { ...base, responseLimit: TEST_RESPONSE_LIMIT, ...TEST_SERVICES[name].options };
}
