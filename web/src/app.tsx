import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api } from './api.ts';
import { clearToken, loadToken, saveToken, TOKEN_KEY, type Session } from './auth.ts';
import { SharedPage } from './pages/shared.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { Shell } from './shell.tsx';

/** The dashboard: a shared link's read-only page, or the sign-in form until there is a token, then the shell. */
export function App() {
  return location.pathname === '/share' ? <SharedPage /> : <SignedIn />;
}

function SignedIn() {
  const [token, setToken] = useState<string | null>(loadToken);
  const [reason, setReason] = useState<string | null>(null);

  // Signing in or out in another tab applies here too.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === TOKEN_KEY || event.key === null) setToken(loadToken());
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  const session = useMemo<Session | null>(
    () =>
      token === null
        ? null
        : {
            token,
            api: new Api(token),
            signOut: (why) => {
              clearToken();
              setReason(why ?? null);
              setToken(null);
            },
          },
    [token],
  );

  if (!session) {
    return (
      <SignIn
        reason={reason}
        onSignedIn={(signedIn) => {
          saveToken(signedIn);
          setReason(null);
          setToken(signedIn);
        }}
      />
    );
  }
  return <Shell session={session} />;
}
