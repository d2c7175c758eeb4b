import { useEffect } from 'preact/hooks';
import type { Session } from './auth.ts';
import { Logo } from './logo.tsx';
import { Link, navigate, usePathname } from './router.tsx';
import { HOME_PATH, ROUTES, routeFor } from './routes.ts';

/** The signed-in layout: navigation on the left, the current route's page beside it. */
export function Shell({ session }: { session: Session }) {
  const path = usePathname();
  const route = routeFor(path);
  const home = path === '/';

  useEffect(() => {
    if (home) navigate(HOME_PATH, { replace: true });
  }, [home]);
  useEffect(() => {
    document.title = route ? `${route.title} · Beacon` : 'Beacon';
  }, [route]);

  return (
    <div class="shell">
      <nav class="nav" aria-label="Main">
        <div class="brand">
          <Logo size={18} />
          Beacon
        </div>
        <ul class="nav-list">
          {ROUTES.map((r) => (
            <li key={r.path}>
              <Link href={r.path} class="nav-link" current={r === route}>
                <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                  <path d={r.icon} />
                </svg>
                {r.title}
              </Link>
            </li>
          ))}
        </ul>
        <button
          type="button"
          class="button button--quiet nav-signout"
          data-testid="signout"
          onClick={() => session.signOut()}
        >
          Sign out
        </button>
      </nav>
      <main class="main">
        {route ? (
          <route.page key={route.path} session={session} route={route} />
        ) : home ? null : (
          <NotFound path={path} />
        )}
      </main>
    </div>
  );
}

function NotFound({ path }: { path: string }) {
  return (
    <section class="page">
      <div class="placeholder">
        <p class="placeholder-title">No page at {path}</p>
        <p>
          <Link href={HOME_PATH}>Go to Live</Link>
        </p>
      </div>
    </section>
  );
}
