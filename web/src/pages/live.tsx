import { Component } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatClock, formatCount, formatDateTime, formatRate, plural, shortId } from '../format.ts';
import { INITIAL_VIEW, LiveFeed, type LiveView } from '../live-feed.ts';
import type { Entry } from '../message-log.ts';
import type { PageProps } from '../routes.ts';

/** `/live`: messages as they arrive, newest at the top, with history below. */
export function LivePage({ session }: PageProps) {
  const [view, setView] = useState<LiveView>(INITIAL_VIEW);
  const feed = useRef<LiveFeed | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const live = new LiveFeed(session, setView);
    feed.current = live;
    live.start();
    return () => {
      live.close();
      feed.current = null;
    };
  }, [session]);

  // Scrolling to the end of the list loads older messages. A new observer after each load reports
  // on the list as it now is, so a list still too short to scroll keeps loading until it fills.
  const canLoadOlder = !view.loading && view.older === 'idle';
  useEffect(() => {
    const target = sentinel.current;
    if (!target || !canLoadOlder) return;
    const observer = new IntersectionObserver(
      ([entry]) => {
        if (entry?.isIntersecting) feed.current?.loadOlder();
      },
      { root: scroller.current, rootMargin: '0px 0px 240px 0px' },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [canLoadOlder]);

  return (
    <section class="page live">
      <header class="toolbar">
        <h1>Live</h1>
        <StatusPill status={view.status} attempt={view.attempt} />
        <dl class="stats">
          <div>
            <dt>Received</dt>
            <dd data-testid="live-count">{formatCount(view.received)}</dd>
          </div>
          <div>
            <dt>Rate</dt>
            <dd data-testid="live-rate">{formatRate(view.rate)}/s</dd>
          </div>
        </dl>
        <div class="toolbar-end">
          {view.paused && (
            <span class="buffered" data-testid="live-buffered">
              {plural(view.buffered, 'new message')} waiting
            </span>
          )}
          <button
            type="button"
            class={view.paused ? 'button button--primary' : 'button'}
            data-testid="live-pause"
            aria-pressed={view.paused}
            onClick={() => (view.paused ? feed.current?.resume() : feed.current?.pause())}
          >
            {view.paused ? 'Resume' : 'Pause'}
          </button>
        </div>
      </header>

      {view.dropped > 0 && (
        <div class="notice notice--warn" data-testid="dropped-notice" role="status">
          <span>
            {plural(view.dropped, 'message')} skipped because this page fell behind — reload to see them.
          </span>
          <button type="button" class="button button--small" onClick={() => feed.current?.reload()}>
            Reload
          </button>
          <button
            type="button"
            class="button button--small button--quiet"
            onClick={() => feed.current?.dismissDropped()}
          >
            Dismiss
          </button>
        </div>
      )}
      {view.problem && (
        <div class="notice notice--error" data-testid="live-problem" role="alert">
          <span>{view.problem}</span>
          <button type="button" class="button button--small" onClick={() => feed.current?.retry()}>
            Retry
          </button>
        </div>
      )}

      <div class={spansDays(view.entries) ? 'log log--dated' : 'log'} ref={scroller}>
        <div class="log-head" aria-hidden="true">
          <span>Received</span>
          <span>ID</span>
          <span>Payload</span>
        </div>
        <RowList entries={view.entries} />
        {view.entries.length === 0 && !view.loading && <EmptyState />}
        <div class="log-foot" ref={sentinel}>
          <Footer view={view} onLoadOlder={() => feed.current?.loadOlder()} />
        </div>
      </div>
    </section>
  );
}

/** True when the oldest row is not from today, so that times need their date. */
function spansDays(entries: readonly Entry[]): boolean {
  const oldest = entries.at(-1);
  return oldest !== undefined && new Date(oldest.time).toDateString() !== new Date().toDateString();
}

function StatusPill({ status, attempt }: { status: LiveView['status']; attempt: number }) {
  return (
    <span class={`pill pill--${status}`}>
      <span class="pill-dot" aria-hidden="true" />
      <span data-testid="live-status">{status}</span>
      {status === 'reconnecting' && attempt > 0 && <span class="pill-detail">attempt {attempt}</span>}
    </span>
  );
}

function Footer({ view, onLoadOlder }: { view: LiveView; onLoadOlder: () => void }) {
  if (view.loading) return <span>Loading messages…</span>;
  switch (view.older) {
    case 'loading':
      return <span>Loading older messages…</span>;
    case 'full':
      return <span>Showing the newest {formatCount(view.capacity)} messages; older ones are not kept.</span>;
    case 'exhausted':
      return (
        <>
          <span>
            No older messages back to {view.searchedFrom === null ? 'now' : formatDateTime(view.searchedFrom)}
            .
          </span>
          <button type="button" class="button button--small" onClick={onLoadOlder}>
            Search further back
          </button>
        </>
      );
    case 'idle':
      return (
        <button type="button" class="button button--small" data-testid="load-older" onClick={onLoadOlder}>
          Load older
        </button>
      );
  }
}

function EmptyState() {
  const origin = window.location.origin;
  return (
    <div class="empty" data-testid="live-empty">
      <p class="empty-title">Waiting for messages</p>
      <p>Nothing in the last quarter hour. Send one and it appears here at once:</p>
      <pre class="empty-code">
        {`curl -X POST ${origin}/v1/messages \\\n  -H "Authorization: Bearer $BEACON_TOKEN" \\\n  -H "Content-Type: application/json" \\\n  -d '{"hello":"world"}'`}
      </pre>
    </div>
  );
}

/** The rows; re-rendered only when the entries change, not on every status or rate tick. */
class RowList extends Component<{ entries: readonly Entry[] }> {
  override shouldComponentUpdate(next: { entries: readonly Entry[] }): boolean {
    return next.entries !== this.props.entries;
  }

  render() {
    return (
      <ol class="log-rows" data-testid="live-list">
        {this.props.entries.map((entry) => (
          <Row key={entry.id} entry={entry} />
        ))}
      </ol>
    );
  }
}

/** One message. An entry never changes, so a row re-renders only to expand or collapse. */
class Row extends Component<{ entry: Entry }, { expanded: boolean }> {
  override state = { expanded: false };

  override shouldComponentUpdate(next: { entry: Entry }, nextState: { expanded: boolean }): boolean {
    return next.entry !== this.props.entry || nextState.expanded !== this.state.expanded;
  }

  #toggle = () => {
    // A click that ends a text selection is someone copying, not asking to expand.
    if (window.getSelection()?.toString()) return;
    this.setState({ expanded: !this.state.expanded });
  };

  #onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    this.setState({ expanded: !this.state.expanded });
  };

  render() {
    const { entry } = this.props;
    const { expanded } = this.state;
    return (
      <li class={entry.flash ? 'row row--flash' : 'row'} data-testid="live-row" data-id={entry.id}>
        <time class="row-time" dateTime={entry.receivedAt} title={entry.receivedAt}>
          {formatClock(entry.time)}
        </time>
        <span class="row-id" title={entry.id}>
          {shortId(entry.id)}
        </span>
        <div
          class={expanded ? 'row-payload row-payload--open' : 'row-payload'}
          role="button"
          tabIndex={0}
          aria-expanded={expanded}
          onClick={this.#toggle}
          onKeyDown={this.#onKeyDown}
        >
          <code data-testid="live-payload">
            {expanded ? JSON.stringify(entry.payload, null, 2) : entry.preview}
          </code>
        </div>
      </li>
    );
  }
}
