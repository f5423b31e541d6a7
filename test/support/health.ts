import type { FaultReport } from "../../worker/feeds/fault";

/** `/healthz` with the operator's details (the metrics token, or a publishing credential, unlocks them). */
export async function healthDetails(
  baseUrl: string,
  token = "test-metrics-token",
): Promise<{
  activeSymbols: string[];
  feedStatus: {
    provider: string;
    requestsPerMinute: number;
    lastRound: { limited: boolean; hubs: number; relays: number };
    faults: FaultReport;
  };
}> {
  const res = await fetch(`${baseUrl}/healthz`, { headers: { Authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`/healthz with the token answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Awaited<ReturnType<typeof healthDetails>>;
}
