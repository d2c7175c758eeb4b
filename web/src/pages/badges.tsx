import { useEffect, useState } from 'preact/hooks';
import { isAbort } from '../api.ts';
import {
  BADGE_KINDS,
  badgeTokenCreatedAt,
  badgeUrl,
  revokeBadgeToken,
  rotateBadgeToken,
  savedBadgeSecret,
} from '../badges.ts';
import { formatDateTime } from '../format.ts';

/** Selects a field's text on focus, so a click is all it takes to copy it. */
const selectAll = (e: Event) => (e.target as HTMLInputElement).select();

/**
 * A target's badges: each one's image, URL and Markdown to paste into a README. Without the badge
 * secret (made in settings, in this browser) the URLs carry a placeholder to replace.
 */
export function BadgesPanel({ target }: { target: string }) {
  const secret = savedBadgeSecret();
  return (
    <div class="badges" data-testid="badges">
      {secret === null && (
        <p class="uptime-muted" data-testid="badges-no-secret">
          Make a badge token in <a href="/settings">settings</a> to preview these here; until then the URLs
          carry a placeholder for it.
        </p>
      )}
      <table class="uptime-table">
        <tbody>
          {BADGE_KINDS.map(([kind, title]) => {
            const url = badgeUrl(target, kind, secret);
            return (
              <tr key={kind} data-testid="badge-row" data-kind={kind}>
                <td>{title}</td>
                <td>
                  {secret !== null && <img src={url} alt={`${title} badge`} data-testid="badge-image" />}
                </td>
                <td>
                  <input
                    class="input"
                    readOnly
                    aria-label={`${title} badge as Markdown`}
                    data-testid="badge-markdown"
                    value={`![${title}](${url})`}
                    onFocus={selectAll}
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Settings: the tenant's badge token, made, rotated or revoked; a new secret is shown once. */
export function BadgeTokenSettings({ token }: { token: string }) {
  const [createdAt, setCreatedAt] = useState<string | null | undefined>(undefined);
  const [secret, setSecret] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    badgeTokenCreatedAt(token, abort.signal).then(setCreatedAt, (err: unknown) => {
      if (!isAbort(err)) setProblem((err as Error).message);
    });
    return () => abort.abort();
  }, [token]);

  const act = (action: () => Promise<void>) => {
    setProblem(null);
    action().catch((err: Error) => setProblem(err.message));
  };
  const rotate = () =>
    act(async () => {
      const made = await rotateBadgeToken(token);
      setSecret(made.token);
      setCreatedAt(made.createdAt);
    });
  const revoke = () =>
    act(async () => {
      await revokeBadgeToken(token);
      setSecret(null);
      setCreatedAt(null);
    });

  return (
    <section data-testid="badge-token">
      <h2 class="uptime-h2">Badge token</h2>
      <p class="uptime-muted">
        Opens the status, uptime, response and certificate badges of every target (and nothing else), so its
        URLs can go in a public README. Rotating it retires the old one.
      </p>
      {problem && (
        <div class="notice notice--error" role="alert">
          {problem}
        </div>
      )}
      <p data-testid="badge-token-state">
        {createdAt === undefined
          ? '…'
          : createdAt === null
            ? 'No badge token.'
            : `Made ${formatDateTime(Date.parse(createdAt))}.`}
      </p>
      {secret && (
        <label class="field">
          <span class="field-label">
            New badge token: shown once, kept in this browser for the badge panels
          </span>
          <input class="input" readOnly data-testid="badge-token-secret" value={secret} onFocus={selectAll} />
        </label>
      )}
      <div class="badge-token-actions">
        <button type="button" class="button button--small" data-testid="badge-token-rotate" onClick={rotate}>
          {createdAt ? 'Rotate' : 'Create'}
        </button>
        {createdAt && (
          <button
            type="button"
            class="button button--small button--quiet"
            data-testid="badge-token-revoke"
            onClick={revoke}
          >
            Revoke
          </button>
        )}
      </div>
    </section>
  );
}
