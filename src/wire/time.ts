/**
 * Times on the wire: ISO 8601 UTC with milliseconds (`2026-12-03T18:52:06.123Z`), in the HTTP API,
 * in log records and in the live stream. Inside Beacon a time is epoch milliseconds.
 */

let lastMs = NaN;
let lastIso = '';

/** Epoch ms as wire time. Records of one batch share their times, so the last answer is kept. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) lastIso = new Date((lastMs = ms)).toISOString();
  return lastIso;
}

/** `isoTime`, with null (an open end, a time not yet known) passed through. */
export function isoTimeOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

/** Wire time (or any time `Date.parse` reads) as epoch ms; undefined stays undefined. */
export function epochMs(iso: string): number;
export function epochMs(iso: string | undefined): number | undefined;
export function epochMs(iso: string | undefined): number | undefined {
  return iso === undefined ? undefined : Date.parse(iso);
}
