// Analytics numbers as text: durations and the range form's dates (UTC, `YYYY-MM-DD`).

export const DAY_MS = 86_400_000;

/** Seconds as `1:02:03`, or `2:03` under an hour. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(Math.floor(seconds % 60)).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The API's exclusive `to` for a range whose last day (included, as the form asks) is `lastDay`. */
export const dayAfter = (lastDay: string) => isoDate(Date.parse(`${lastDay}T00:00:00Z`) + DAY_MS);

/** The form's last day (included) for the API's exclusive `to`. */
export const dayBefore = (to: string) => isoDate(Date.parse(`${to}T00:00:00Z`) - DAY_MS);
