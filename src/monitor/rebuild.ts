import type { Store } from '../store/store.ts';
import type { RebuildProgress } from '../sink/projection.ts';
import { deriveFromChecks } from './derive.ts';
import type { MonitorRepositories, MonitorWriters } from './store/repositories.ts';

const DAY = 86_400_000;
/** Series read at once. */
const PAGE = 200;

/**
 * Rebuilds every rollup, target state and incident from the checks the store keeps (hot rows, blocks
 * and rows from before blocks), series by series and a day at a time in slot order, each day one
 * transaction. The raw checks and the sink's checkpoint are left as they are: they already hold
 * everything the log delivered. Run it while the checks sink is stopped.
 */
export async function rebuildFromStore(
  store: Store<MonitorWriters> & MonitorRepositories,
  onProgress?: (progress: RebuildProgress) => void,
): Promise<number> {
  await store.transaction((tx) => tx.checks.resetDerived());
  const of = await store.monitor.seriesCount();
  let series = 0;
  let checks = 0;
  for (let after = 0; ;) {
    const page = await store.monitor.seriesAfter(after, PAGE);
    for (const s of page) {
      const span = await store.monitor.seriesSpan(s);
      for (let from = span ? Math.floor(span.first / DAY) * DAY : 0; span && from < span.end; from += DAY) {
        const stored = await store.monitor.seriesChecks(s, from, from + DAY);
        if (stored.length === 0) continue;
        await store.transaction((tx) => deriveFromChecks(tx, stored));
        checks += stored.length;
      }
      series += 1;
      onProgress?.({ records: checks, fraction: of === 0 ? 1 : series / of });
    }
    if (page.length < PAGE) break;
    after = page.at(-1)!.id;
  }
  return checks;
}
