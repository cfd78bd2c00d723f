// A client of the running stack's HTTP API for benches: the envelope's `data`, or an error
// naming the call.

export async function callApi(base: string, method: string, route: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(`${base}/api/v1${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data: unknown };
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json.data;
}
