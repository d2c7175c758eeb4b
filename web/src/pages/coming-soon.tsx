import type { PageProps } from '../routes.ts';

/** The page of a route whose view is not built yet. */
export function ComingSoon({ route }: PageProps) {
  return (
    <section class="page">
      <header class="toolbar">
        <h1>{route.title}</h1>
      </header>
      <div class="placeholder" data-testid="coming-soon">
        <p class="placeholder-title">Coming soon</p>
        <p>{route.summary}</p>
      </div>
    </section>
  );
}
