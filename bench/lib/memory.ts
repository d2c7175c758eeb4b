import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a process's resident memory is, from /proc/<pid>/smaps: file pages (the node binary's code,
 * ICU data and V8 snapshot, shared libraries), V8's heap pages (anonymous mappings of exactly V8's
 * 256 KB page size), glibc's main malloc heap ([heap]: native allocations, V8's compiler zones among
 * them) and the rest of the anonymous memory (stacks, larger native buffers, V8's code range). MB.
 */
export interface MemoryBreakdown {
  readonly rssMb: number;
  readonly fileMb: number;
  readonly v8PagesMb: number;
  readonly mallocHeapMb: number;
  readonly otherAnonMb: number;
  readonly threads: number;
}

const V8_PAGE_KB = 256;

export function memoryBreakdown(pid: number): MemoryBreakdown {
  let rss = 0;
  let file = 0;
  let v8 = 0;
  let malloc = 0;
  let other = 0;
  let name = '';
  let sizeKb = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      sizeKb = (parseInt(mapping[2]!, 16) - parseInt(mapping[1]!, 16)) / 1024;
      name = mapping[3]!;
      continue;
    }
    if (!line.startsWith('Rss:')) continue;
    const kb = Number(line.split(/\s+/)[1]);
    rss += kb;
    if (name.startsWith('/')) file += kb;
    else if (name === '[heap]') malloc += kb;
    else if (name === '' && sizeKb === V8_PAGE_KB) v8 += kb;
    else other += kb;
  }
  const threads = Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  const mb = (kb: number) => kb / 1024;
  return {
    rssMb: mb(rss),
    fileMb: mb(file),
    v8PagesMb: mb(v8),
    mallocHeapMb: mb(malloc),
    otherAnonMb: mb(other),
    threads,
  };
}

/** One isolate's heap from a diagnostic report: what V8 has committed, and how much of it is live. */
export interface IsolateHeap {
  readonly committedMb: number;
  readonly usedMb: number;
  readonly codeMb: number;
}

/**
 * The heaps of every isolate (the main thread's first, then each worker thread's) from the newest
 * diagnostic report in `dir` (Node's --report-on-signal), or undefined when there is none yet, or it
 * is not all written.
 */
export function isolateHeaps(dir: string): IsolateHeap[] | undefined {
  const reports = readdirSync(dir)
    .filter((f) => f.startsWith('report.') && f.endsWith('.json'))
    .sort();
  if (reports.length === 0) return undefined;
  interface Heap {
    totalCommittedMemory: number;
    usedMemory: number;
    heapSpaces: Record<string, { committedMemory: number }>;
  }
  let report: { javascriptHeap: Heap; workers?: { javascriptHeap: Heap }[] };
  try {
    report = JSON.parse(readFileSync(join(dir, reports.at(-1)!), 'utf8')) as typeof report;
  } catch {
    // Still being written: the caller asks again.
    return undefined;
  }
  const of = (h: Heap): IsolateHeap => ({
    committedMb: h.totalCommittedMemory / 2 ** 20,
    usedMb: h.usedMemory / 2 ** 20,
    codeMb: (h.heapSpaces.code_space?.committedMemory ?? 0) / 2 ** 20,
  });
  return [of(report.javascriptHeap), ...(report.workers ?? []).map((w) => of(w.javascriptHeap))];
}
