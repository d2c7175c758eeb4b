import { useEffect, useState } from 'preact/hooks';
import { isAbort } from './api.ts';

/** What `useResource` gives a component: the value once loaded, the last error, and a reload. */
export interface Resource<T> {
  readonly value: T | undefined;
  readonly error: string | null;
  reload(): void;
}

/**
 * Loads a value when mounted and whenever `deps` change or `reload()` is called; an earlier load
 * still running is aborted, so the last answer always wins.
 */
export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): Resource<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    load(abort.signal).then(
      (v) => {
        setValue(() => v);
        setError(null);
      },
      (err: unknown) => {
        if (!isAbort(err)) setError((err as Error).message);
      },
    );
    return () => abort.abort();
    // The caller’s deps, and reload(), decide when to load again.
  }, [...deps, version]);
  return { value, error, reload: () => setVersion((v) => v + 1) };
}

/** What a page needs to change things through the API: the last refusal to show, and `act`. */
export interface Changes {
  readonly problem: string | null;
  /** Shows a refusal that did not come through `act` (a download, a further page). */
  readonly refused: (err: Error) => void;
  /** Runs a change; once it succeeds the problem clears and `after` runs (a reload), else it says why. */
  readonly act: (action: () => Promise<unknown>) => Promise<void>;
}

/** Changes made from a page, with `after` run once each succeeds. */
export function useChanges(after: () => void): Changes {
  const [problem, setProblem] = useState<string | null>(null);
  const refused = (err: Error) => setProblem(err.message);
  return {
    problem,
    refused,
    act: (action) =>
      action().then(() => {
        setProblem(null);
        after();
      }, refused),
  };
}
