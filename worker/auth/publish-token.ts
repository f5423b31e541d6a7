import type { Env } from "../env";

const utf8 = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", utf8.encode(text));
}

/** Constant-time check of a presented publish token. No PUBLISH_TOKEN configured: nothing matches. */
export async function isPublishToken(env: Env, presented: string): Promise<boolean> {
  const expected = env.PUBLISH_TOKEN;
  if (!expected) return false;
  // Hashing first gives equal-length inputs, which timingSafeEqual requires.
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}
