/**
 * Unit files share one module graph per worker (`isolate: false`: re-importing the worker for
 * each of 40 files was a third of the layer's time). What one file may change globally is put
 * back after it, so no file sees another's clock or spies.
 */
import { afterAll, vi } from "vitest";

afterAll(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});
