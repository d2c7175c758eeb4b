const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A duration as operators write it, in milliseconds: a number and a unit (`ms`, `s`, `m`, `h`, `d`,
 * `w`), e.g. `90s`, `1.5h`, `7d`; a bare 0 is zero. Throws with the reason otherwise.
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!match || (match[2] === undefined && Number(match[1]) !== 0)) {
    throw new Error(`a duration is a number and a unit (ms, s, m, h, d or w), e.g. 30m or 7d; got ${text}`);
  }
  return Number(match[1]) * UNITS[match[2] ?? 'ms']!;
}
