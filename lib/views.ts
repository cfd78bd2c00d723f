// The rules of view counting and resume (README, "Views, watch history and resume"). Pure.

/** What an anonymous player may send as its device id (the web app keeps a random one in localStorage). */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * Who a heartbeat counts for: the signed-in user; else the device id the player sent; else
 * the client address (players that keep no id, e.g. curl, share their address's views).
 */
export function viewerKey(input: { userId?: string; deviceId?: unknown; clientAddress: string }): string {
  if (input.userId) return `u:${input.userId}`;
  if (typeof input.deviceId === 'string' && DEVICE_ID_PATTERN.test(input.deviceId)) return `d:${input.deviceId}`;
  return `a:${input.clientAddress}`;
}

/** The last stretch that counts as having finished: 10 s or 5 % of the video, whichever is longer. */
export function finishedFrom(durationSeconds: number): number {
  return durationSeconds - Math.max(10, durationSeconds * 0.05);
}

/** Where a viewer resumes: their last position, or null when there is none or they finished. */
export function resumeAt(positionSeconds: number | null | undefined, durationSeconds: number | null): number | null {
  if (positionSeconds === null || positionSeconds === undefined) return null;
  if (durationSeconds !== null && positionSeconds >= finishedFrom(durationSeconds)) return null;
  return positionSeconds;
}
