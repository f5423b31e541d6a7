/**
 * Token helpers and key material for tests only. These keys sign nothing outside the
 * test suite; they are fixed so that unit tests are reproducible.
 */
import { importJWK, type JWTPayload, SignJWT } from "jose";

export const TEST_SECRET = "test-subscriber-secret-0123456789abcdef";

export const ES256_PRIVATE_JWK = {
  kty: "EC",
  x: "auqLkfUXfnVzzQM_KMTCepy-mhWV_yJg3om4hmA0LrM",
  y: "0cmrwUc7aCCgXaCyVgLDmBomZuiAZqyaFbh2EY4Ssas",
  crv: "P-256",
  d: "VXdcb2xPxUOVEMkm7-Z7E8ma-_OanT_95fU6aSNR9Kc",
  alg: "ES256",
  kid: "es256-test",
};
export const ES256_SPKI =
  "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEauqLkfUXfnVzzQM/KMTCepy+mhWV\n/yJg3om4hmA0LrPRyavBRztoIKBdoLJWAsOYGiZm6IBmrJoVuHYRjhKxqw==\n-----END PUBLIC KEY-----";
export const RS256_PRIVATE_JWK = {
  kty: "RSA",
  n: "2MB_kLzZPguJ20kaCMNVbIdDoVKSPg1ysbzSzr9rsb5BxAQvzFFY1IMsMKXoEeKU9e08BNjHs0MnLIXAgpCkY70Bw84QMrlgxESnIcV0kEP67ctDG7yG43HHq7iJaaMHoTM2AMlwUDV6i5MDz7mQjiwDsZ17ZpgGw3G8xtSQnPo36lrRKRayLLc-sF4Vgsc3PN23EEVA_bSr9-7ltlnOSf7haGDZwNUevR7rFBF5JYaB3gxCGK588iUIiXaTH5kOYENlzoQLMgOb3cFYf-N1SnOkwLpt732jXxh8Idyhar6cOejCTIKIgErKb-LBz7hp3ULuI3AcRFuMZM-X_b4R_w",
  e: "AQAB",
  d: "EdNK6mP4Lbe_NO8pxUdjKBNmXBxb9d8fQT9jytLykAyIgLlOFlco9K57nN3tXEMuYvHepLtl46KF1I3aC3gfvNVsvBCfQ7ymbkhYbQOTFtDbEGFN-eL4PjjmOy4S8ZgRvDpnmjWhbJyT9mnhv1yQZyYhgPg65MYN5awzN9rVWxi7aQUsIMgz-_Kadig4DRnZOEzeO5zwmThTsbrOmTzq63rkyBN1f8Vk52rbIytTY4NypZ_9ekJpP4v_jwpTgqt2cLpmxxMChg9W1qWJ_x2uiOnS77RMvU_-o8SF2C-wpSRGCcqkVnVLzFArmV9Nv9JMqBEjjqmgB6WNfOlwe-P6IQ",
  p: "9G_yUrz9A9zxW4i9kmP_hFHqqqVNCiMLBYbsG8A-ErhsaXUG-BceXhAzaDFRzsIvnyJBjcqyt7Y1Wi3ppefFlWK-9YU4Ts6vIq4DLOCgG3u3xADS1HJb3V77yLkyrrMEhvlP38hYHLL6KkYXyRvbcyJZxC9CjivLciLAgCaXAc8",
  q: "4wFKoE56MVYgLZB4jmTQK4ZT95tIcdbl5d1k34YA76fHTk_VrqeY7F31IIgJX00F4Kv9-1WatRIkUeyReeRztfgUELaFNkwH2P3Bt9Ji9Coin7cXJ-xGVWSsk2SZ4sg2cNuNRfUF8jF5enSbd6jbZ8I4K-EHCGAVYFv7C76O6NE",
  dp: "OTjTs4bGfFcGsXTrXA_Iy0MZ-mTECjF17Q9OyphQb7V4u59HyGAxHbgRML0K96oB1_D_A6CGAffHuZqx7cK6QGRja7qKGfjMiwPNfn3_PS_TLzE6Kb2zv7jynGSudrM1xhsrFaoi5mUHp0nNW6kH0IYkGYcuv3WFJOz5v4ZJJ4U",
  dq: "TTX8PwhSUYOc0EKqbqxljdhTqQ19F5NjgMrL66c1nE4x4TYQVSaWQhc3MAh1P6AAFsoJSjp0s4_nIKJZXN9SaBtoH8MlDjHQHYM6J578n1XRjweEbcTUq2jhtgRqvxMgSUS0CY5splMjoX4V_x5E-ka6OlqAvN2Jh8vhWL5I93E",
  qi: "JyXnR0SM8r4wOwT5V-44QtGBH-5OF8tZ-yjj2hAh1kWMsCS2phfiIzZnKQbdHIeDgayVxCOKkzfDgmi1dql1GaqPwn2StWisZX72hCpWrbiKSY_RwPv2YA80___dZqETiViPeehDnNk5VqJmFBT1ytdfaXd9n3oumbcdrSt9A-k",
  alg: "RS256",
  kid: "rs256-test",
};
export const RS256_SPKI =
  "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2MB/kLzZPguJ20kaCMNV\nbIdDoVKSPg1ysbzSzr9rsb5BxAQvzFFY1IMsMKXoEeKU9e08BNjHs0MnLIXAgpCk\nY70Bw84QMrlgxESnIcV0kEP67ctDG7yG43HHq7iJaaMHoTM2AMlwUDV6i5MDz7mQ\njiwDsZ17ZpgGw3G8xtSQnPo36lrRKRayLLc+sF4Vgsc3PN23EEVA/bSr9+7ltlnO\nSf7haGDZwNUevR7rFBF5JYaB3gxCGK588iUIiXaTH5kOYENlzoQLMgOb3cFYf+N1\nSnOkwLpt732jXxh8Idyhar6cOejCTIKIgErKb+LBz7hp3ULuI3AcRFuMZM+X/b4R\n/wIDAQAB\n-----END PUBLIC KEY-----";

/** JWK members that belong to the private key only (RFC 7518 §6.2.2, §6.3.2). */
const PRIVATE_MEMBERS: ReadonlySet<string> = new Set(["d", "p", "q", "dp", "dq", "qi"]);

/** The public half of a private JWK: the same key without its private members. */
function publicHalf(jwk: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(jwk).filter(([member]) => !PRIVATE_MEMBERS.has(member)));
}

/** An inline JWKS (AUTH_JWKS) with both public keys. */
export const TEST_JWKS = JSON.stringify({ keys: [publicHalf(ES256_PRIVATE_JWK), publicHalf(RS256_PRIVATE_JWK)] });

export interface SignOptions {
  alg?: "HS256" | "ES256" | "RS256";
  /** HS256 key (the shared secret by default). */
  secret?: string;
  /** Seconds from `now` until `exp` (default 600); null leaves `exp` out. */
  expiresIn?: number | null;
  /** Epoch ms the token is made at (default Date.now()). */
  now?: number;
  kid?: string;
}

/** A signed subscriber token with `claims` (rt, sym, pub, sub, nbf, aud, iss...). */
export async function signToken(
  claims: JWTPayload & Record<string, unknown>,
  options: SignOptions = {},
): Promise<string> {
  const alg = options.alg ?? "HS256";
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const expiresIn = options.expiresIn === undefined ? 600 : options.expiresIn;
  const body: JWTPayload = { iat: now, ...(expiresIn === null ? {} : { exp: now + expiresIn }), ...claims };
  const key =
    alg === "HS256"
      ? new TextEncoder().encode(options.secret ?? TEST_SECRET)
      : await importJWK(alg === "ES256" ? ES256_PRIVATE_JWK : RS256_PRIVATE_JWK, alg);
  const kid = options.kid ?? (alg === "HS256" ? undefined : `${alg.toLowerCase()}-test`);
  return new SignJWT(body).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).sign(key);
}

const b64url = (text: string) => Buffer.from(text).toString("base64url");

/** An unsecured token (`alg:none`, empty signature): what an attacker forges. */
export function unsignedToken(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}.`;
}
