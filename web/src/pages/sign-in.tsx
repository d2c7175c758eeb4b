import { useState } from 'preact/hooks';
import { Api, ApiError } from '../api.ts';
import { Logo } from '../logo.tsx';

export interface SignInProps {
  /** Why the last session ended, when it was not the user's choice. */
  readonly reason: string | null;
  readonly onSignedIn: (token: string) => void;
}

/** Asks for an API token and checks it against the API before keeping it. */
export function SignIn({ reason, onSignedIn }: SignInProps) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  const submit = async () => {
    const candidate = token.trim();
    if (candidate === '') {
      setError('Paste an API token first.');
      return;
    }
    setChecking(true);
    setError(null);
    try {
      await new Api(candidate).listMessages({ limit: 1 });
      onSignedIn(candidate);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : `Could not check the token: ${String(err)}`);
      setChecking(false);
    }
  };

  return (
    <main class="signin">
      <form
        class="signin-card"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <h1 class="signin-title">
          <Logo size={22} />
          Beacon
        </h1>
        {reason && (
          <p class="notice notice--warn" data-testid="signin-notice" role="status">
            Signed out: {reason}
          </p>
        )}
        <label class="field">
          <span class="field-label">API token</span>
          <input
            type="password"
            class="input"
            data-testid="signin-token"
            autocomplete="off"
            spellcheck={false}
            autoFocus
            value={token}
            onInput={(event) => setToken(event.currentTarget.value)}
            aria-invalid={error !== null}
            aria-describedby="signin-help"
          />
        </label>
        <p class="field-help" id="signin-help">
          <code>beacon start</code> prints a token on its first run. To make one for this dashboard, run{' '}
          <code>npx beacon token create --scope read</code>. The token is kept in this browser only.
        </p>
        {error && (
          <p class="signin-error" data-testid="signin-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="button button--primary" data-testid="signin-submit" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
