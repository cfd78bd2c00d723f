/**
 * The one allow-list rule for browser origins, shared by the API's CORS and the gateway's
 * WebSocket upgrade. A request without an Origin header is not a browser's cross-site request
 * (curl, OBS, server-to-server) and is let through; CORS cannot protect those anyway.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return true;
  if (allowed.includes('*')) return true;
  let normalized: string;
  try {
    normalized = new URL(origin).origin;
  } catch {
    return false;
  }
  return allowed.includes(normalized);
}
