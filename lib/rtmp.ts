// The one module that talks to nginx-rtmp's HTTP side: `rtmp_control` to cut an encoder
// off and `rtmp_stat` to see who is connected. `controlUrl` is the `/control` location;
// `/stat` sits next to it.

/** The ingest application encoders publish to (scripts/stack/nginx.ts). */
const INGEST_APP = 'live';

const statUrl = (controlUrl: string) => new URL('stat', controlUrl.replace(/\/?$/, '')).toString();

/** Client ids publishing to the ingest application right now, from nginx-rtmp's stat XML. */
export async function publishingClients(controlUrl: string): Promise<Set<string>> {
  const res = await fetch(statUrl(controlUrl), { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`nginx-rtmp stat answered ${res.status}`);
  const xml = await res.text();
  const ids = new Set<string>();
  for (const application of xml.split('<application>').slice(1)) {
    if (!application.includes(`<name>${INGEST_APP}</name>`)) continue;
    for (const client of application.split('<client>').slice(1)) {
      const id = /<id>(\d+)<\/id>/.exec(client)?.[1];
      if (id && client.slice(0, client.indexOf('</client>')).includes('<publishing/>')) ids.add(id);
    }
  }
  return ids;
}

/** Cuts one client off the ingest application; returns how many nginx dropped (0 if it was gone). */
export async function dropClient(controlUrl: string, clientId: string): Promise<number> {
  const url = `${controlUrl.replace(/\/$/, '')}/drop/client?app=${INGEST_APP}&clientid=${encodeURIComponent(clientId)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  // nginx-rtmp answers 200 with the number of dropped clients, or 404 when there was none.
  if (res.status === 404) return 0;
  if (!res.ok) throw new Error(`nginx-rtmp control answered ${res.status}`);
  return Number(await res.text()) || 0;
}
