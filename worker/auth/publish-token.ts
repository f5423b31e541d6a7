import type { Env } from "../env";

const utf8 = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", utf8.encode(text));
}

/** Constant-time comparison of a presented secret with the expected one; nothing matches an unset secret. */
export async function tokensMatch(presented: string, expected: string | undefined): Promise<boolean> {
  if (!expected) return false;
  // Hashing first gives equal-length inputs, which timingSafeEqual requires.
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Whether `presented` is the publish token. No PUBLISH_TOKEN configured: nothing matches. */
export function isPublishToken(env: Env, presented: string): Promise<boolean> {
  return tokensMatch(presented, env.PUBLISH_TOKEN);
}
