/** `POST /api/ticks` with a bearer token (or none, with `null`). */
export function postTicks(baseUrl: string, ticks: unknown, token: string | null): Promise<Response> {
  return fetch(`${baseUrl}/api/ticks`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(ticks),
  });
}
