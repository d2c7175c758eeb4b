import type { Log } from '../log/log.ts';
import { STREAMS, type Stream } from '../log/record.ts';
import type { StoragePart } from '../store/storage.ts';
import type { Store } from '../store/store.ts';

/** One stream's bytes on disk: store and log, raw and derived, and what a record costs in all. */
export interface StreamStorage {
  readonly stream: Stream;
  readonly bytes: number;
  /** Records the store keeps (rows and blocks), or the log when the store keeps none. */
  readonly records: number;
  /** `bytes / records`: everything the stream costs at rest, per record; null without records. */
  readonly bytesPerRecord: number | null;
  readonly parts: readonly StoragePart[];
}

/** Where the disk goes (`beacon storage`, `GET /v1/storage`). */
export interface StorageReport {
  /** When it was measured, epoch ms. */
  readonly at: number;
  readonly streams: readonly StreamStorage[];
  /** Tables that are no stream's (tenants, tokens, targets, checkpoints…). */
  readonly other: readonly StoragePart[];
  readonly bytes: number;
}

const biggest = (a: StoragePart, b: StoragePart) => b.bytes - a.bytes;

/** Measures the store and, when it is on this disk, the log. */
export async function storageReport(store: Store, log: Log): Promise<StorageReport> {
  const parts = [...(await store.storage()), ...((await log.storage?.()) ?? [])];
  const streams = STREAMS.map((stream): StreamStorage => {
    const mine = parts.filter((p) => p.stream === stream).sort(biggest);
    const bytes = mine.reduce((a, p) => a + p.bytes, 0);
    const stored = mine.filter((p) => p.tier === 'hot' || p.tier === 'compacted');
    const records = stored.some((p) => (p.records ?? 0) > 0)
      ? stored.reduce((a, p) => a + (p.records ?? 0), 0)
      : mine.filter((p) => p.tier === 'log').reduce((a, p) => a + (p.records ?? 0), 0);
    return { stream, bytes, records, bytesPerRecord: records === 0 ? null : bytes / records, parts: mine };
  });
  const other = parts.filter((p) => p.stream === null).sort(biggest);
  return {
    at: Date.now(),
    streams,
    other,
    bytes: parts.reduce((a, p) => a + p.bytes, 0),
  };
}

/** Bytes as people read them: 812 B, 12.3 kB, 4.1 MB, 1.25 GB. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${units[i]}`;
}

/** The report as a table for a terminal. */
export function storageText(report: StorageReport): string {
  const lines: string[] = [];
  const row = (cells: string[]) =>
    lines.push(cells.map((c, i) => (i === 0 ? c.padEnd(56) : c.padStart(14))).join(''));
  row(['', 'bytes', 'records', 'B/record']);
  for (const s of report.streams) {
    row([
      s.stream,
      formatBytes(s.bytes),
      s.records.toLocaleString('en-US'),
      s.bytesPerRecord === null ? '—' : s.bytesPerRecord.toFixed(1),
    ]);
    for (const p of s.parts) {
      const per = p.records ? (p.bytes / p.records).toFixed(1) : '';
      row([
        `  ${p.label} (${p.tier})`,
        formatBytes(p.bytes),
        p.records === null ? '' : p.records.toLocaleString('en-US'),
        per,
      ]);
    }
  }
  const other = report.other.reduce((a, p) => a + p.bytes, 0);
  row(['other (tenants, targets, checkpoints…)', formatBytes(other), '', '']);
  row(['total', formatBytes(report.bytes), '', '']);
  return lines.join('\n') + '\n';
}
