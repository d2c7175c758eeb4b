import type { BadgeFace } from './badge-svg.ts';
import type { TargetListState } from './store/repositories.ts';

/** The badges every target has, as they appear in its badge URLs (`/badge/{target}/{kind}.svg`). */
export const BADGE_KINDS = [
  'status',
  'uptime-24h',
  'uptime-7d',
  'uptime-30d',
  'uptime-90d',
  'response',
  'cert',
] as const;
export type BadgeKind = (typeof BADGE_KINDS)[number];

/** The uptime badges' periods, in days. */
export const UPTIME_DAYS = { 'uptime-24h': 1, 'uptime-7d': 7, 'uptime-30d': 30, 'uptime-90d': 90 } as const;

/** Uptime Kuma's badge colours, so badges read alike beside its users' old ones. */
export const BADGE_COLORS = {
  up: '#66c20a',
  down: '#c2290a',
  warn: '#eed202',
  pending: '#f8a306',
  maintenance: '#1747f5',
  none: '#999',
  /** shields.io's "blue", what Uptime Kuma's response badge uses. */
  blue: '#007ec6',
} as const;

/** What a value side says when there is nothing to say yet. */
const NO_DATA = 'no data';

/** The status badge: a target's state, "pending" before its first check. */
export function statusFace(state: TargetListState): BadgeFace {
  const faces: Record<TargetListState, BadgeFace> = {
    up: { label: 'status', value: 'up', color: BADGE_COLORS.up },
    down: { label: 'status', value: 'down', color: BADGE_COLORS.down },
    degraded: { label: 'status', value: 'degraded', color: BADGE_COLORS.warn },
    maintenance: { label: 'status', value: 'maintenance', color: BADGE_COLORS.maintenance },
    unknown: { label: 'status', value: 'pending', color: BADGE_COLORS.pending },
    paused: { label: 'status', value: 'paused', color: BADGE_COLORS.none },
  };
  return faces[state];
}

/** `#rrggbb` of an HSL colour (hue in degrees, saturation and lightness in 0–1). */
function hslHex(hue: number, saturation: number, lightness: number): string {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    const v = lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/**
 * Uptime Kuma's uptime colour: a hue from red (0 %, hue 10) to green (100 %, hue 90) at 90 %
 * saturation and 40 % lightness; its ends are the down and up colours.
 */
export function uptimeColor(percent: number): string {
  return hslHex((percent / 100) * 80 + 10, 0.9, 0.4);
}

/**
 * An uptime badge: the percent with two decimals, rounded down so that 99.996 % never reads as
 * 100.00 %; "no data" (grey) when no check counted in the period.
 */
export function uptimeFace(kind: keyof typeof UPTIME_DAYS, percent: number | null): BadgeFace {
  const label = `uptime ${kind.slice('uptime-'.length)}`;
  if (percent === null) return { label, value: NO_DATA, color: BADGE_COLORS.none };
  const shown = Math.floor(percent * 100) / 100;
  return { label, value: `${shown.toFixed(2)}%`, color: uptimeColor(shown) };
}

/** The response badge: the average over 24 hours, or the last check's duration, in whole ms. */
export function responseFace(period: '24h' | 'last', ms: number | null): BadgeFace {
  const label = period === '24h' ? 'response 24h' : 'response';
  if (ms === null) return { label, value: NO_DATA, color: BADGE_COLORS.none };
  return { label, value: `${Math.round(ms)}ms`, color: BADGE_COLORS.blue };
}

const DAY = 86_400_000;
/** Uptime Kuma's defaults: warn from 14 days left, down from 7. */
const CERT_WARN_DAYS = 14;
const CERT_DOWN_DAYS = 7;

/** The certificate badge: whole days until the latest recorded certificate expires. */
export function certFace(expiresAt: number | null, now: number): BadgeFace {
  const label = 'cert expiry';
  if (expiresAt === null) return { label, value: NO_DATA, color: BADGE_COLORS.none };
  if (expiresAt <= now) return { label, value: 'expired', color: BADGE_COLORS.down };
  const days = Math.floor((expiresAt - now) / DAY);
  const color =
    days <= CERT_DOWN_DAYS ? BADGE_COLORS.down : days <= CERT_WARN_DAYS ? BADGE_COLORS.warn : BADGE_COLORS.up;
  return { label, value: days === 1 ? '1 day' : `${days} days`, color };
}
