import { useEffect, useMemo, useState } from 'preact/hooks';
import { SharedApi, type SharedInfo } from '../analytics-api.ts';
import { Logo } from '../logo.tsx';
import { SiteDashboard } from './site-dashboard.tsx';

/**
 * `/share#SECRET`: a site's read-only dashboard through a shared link, without signing in. The
 * secret stays in the fragment, which browsers never send to a server, and travels in a header.
 */
export function SharedPage() {
  const api = useMemo(() => new SharedApi(decodeURIComponent(location.hash.slice(1))), []);
  const [info, setInfo] = useState<SharedInfo | null>(null);
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  const load = () =>
    api.info().then(
      (i) => {
        setInfo(i);
        setProblem(null);
      },
      (err: Error) => setProblem(err.message),
    );
  useEffect(() => void load(), [api]);
  useEffect(() => {
    document.title = info ? `${info.domain} · Beacon` : 'Beacon';
  }, [info]);

  return (
    <main class="shared">
      <header class="shared-head">
        <Logo size={18} />
        <h1 data-testid="shared-domain">{info?.domain ?? 'Shared dashboard'}</h1>
        {info && <span class="site-meta">{info.name} · read-only</span>}
      </header>
      {problem && (
        <div class="notice notice--error" role="alert" data-testid="shared-problem">
          <span>{problem}</span>
        </div>
      )}
      {info?.locked && (
        <form
          class="site-form"
          data-testid="shared-unlock"
          onSubmit={(e) => {
            e.preventDefault();
            api.unlock(password).then(load, (err: Error) => setProblem(err.message));
          }}
        >
          <label>
            This dashboard needs its password
            <input
              class="input"
              type="password"
              data-testid="shared-password"
              value={password}
              onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" class="button button--primary" data-testid="shared-unlock-submit">
            Open
          </button>
        </form>
      )}
      {info && !info.locked && (
        <SiteDashboard
          stats={api}
          goals={(info.goals ?? []).map((g) => g.name)}
          segments={info.segments ?? []}
          saltRotation={info.saltRotation ?? 'daily'}
        />
      )}
    </main>
  );
}
