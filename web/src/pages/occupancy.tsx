import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import '../occupancy.css';
import type { Session } from '../auth.ts';
import {
  buildTree,
  countFrame,
  descendants,
  loadCounts,
  loadSpaces,
  localInput,
  occupancy,
  type Count,
  type Space,
  type SpaceNode,
} from '../occupancy.ts';
import { navigate } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { LiveStream, type StreamStatus } from '../stream.ts';
import { useChanges, useResource } from '../use-resource.ts';
import { HealthView } from './occupancy-health.tsx';
import { SetupView, UnplacedView } from './occupancy-setup.tsx';
import { SpaceView } from './occupancy-space.tsx';

/** Subscribes to count frames on /v1/stream while mounted. */
export function useLiveCounts(session: Session, onCount: (count: Count) => void): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const handler = useRef(onCount);
  handler.current = onCount;
  useEffect(() => {
    const stream = new LiveStream(
      { token: session.token, streams: ['sensor-events'] },
      {
        status: (s) => setStatus(s),
        opened: () => undefined,
        failed: () => undefined,
        record: () => undefined,
        dropped: () => undefined,
        rejected: (reason) => session.signOut(reason),
        other: (frame) => {
          const count = countFrame(frame);
          if (count) handler.current(count);
        },
      },
    );
    stream.start();
    return () => stream.close();
  }, [session]);
  return status;
}

/** Listeners of the query string, which the router (paths only) does not report. */
const searchListeners = new Set<() => void>();

/** Goes to `/occupancy` with a new query string, keeping history. */
export function openSearch(search: string): void {
  navigate(`/occupancy${search}`);
  for (const listener of searchListeners) listener();
}

function useSearch(): string {
  const [search, setSearch] = useState(() => location.search);
  useEffect(() => {
    const update = () => setSearch(location.search);
    searchListeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      searchListeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return search;
}

/** A link within the occupancy page: a plain click changes the query string in place. */
export function SearchLink(props: {
  search: string;
  class?: string;
  testid?: string;
  children: ComponentChildren;
}) {
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    openSearch(props.search);
  };
  return (
    <a href={`/occupancy${props.search}`} class={props.class} data-testid={props.testid} onClick={onClick}>
      {props.children}
    </a>
  );
}

/** An error from the API, shown where it happened. */
export function Problem({ message, testid }: { message: string | null; testid?: string }) {
  if (!message) return null;
  return (
    <div class="notice notice--error" role="alert" data-testid={testid ?? 'occupancy-problem'}>
      <span>{message}</span>
    </div>
  );
}

const VIEWS = [
  ['spaces', 'Spaces'],
  ['setup', 'Doorways & sensors'],
  ['unplaced', 'Unplaced events'],
  ['health', 'Health & alerts'],
] as const;
type View = (typeof VIEWS)[number][0];

/**
 * `/occupancy`: the space tree with live counts, where spaces are created, renamed, moved and deleted;
 * `?space=ID` opens a space's page; `?view=setup|unplaced|health` the doorways, sensors and
 * placements, the events no placement covers, and sensor health with alerts.
 */
export function OccupancyPage({ session }: PageProps) {
  const params = new URLSearchParams(useSearch());
  const space = params.get('space');
  if (space !== null) return <SpaceView key={space} session={session} id={space} />;
  const view: View = VIEWS.find(([v]) => v === params.get('view'))?.[0] ?? 'spaces';
  return (
    <section class="page occupancy">
      <header class="toolbar">
        <h1>Occupancy</h1>
        <nav class="occupancy-tabs" aria-label="Occupancy">
          {VIEWS.map(([v, title]) => (
            <SearchLink
              key={v}
              search={v === 'spaces' ? '' : `?view=${v}`}
              class={v === view ? 'occupancy-tab occupancy-tab--current' : 'occupancy-tab'}
              testid={`occupancy-tab-${v}`}
            >
              {title}
            </SearchLink>
          ))}
        </nav>
      </header>
      {view === 'spaces' && <SpaceTree session={session} />}
      {view === 'setup' && <SetupView session={session} />}
      {view === 'unplaced' && <UnplacedView session={session} />}
      {view === 'health' && <HealthView session={session} />}
    </section>
  );
}

function SpaceTree({ session }: { session: Session }) {
  const spaces = useResource((signal) => loadSpaces(session.api, signal), [session]);
  const [counts, setCounts] = useState<Map<string, Count>>(new Map());
  const status = useLiveCounts(session, (count) => setCounts((old) => new Map(old).set(count.space, count)));
  useEffect(() => {
    const abort = new AbortController();
    loadCounts(session.api, abort.signal).then(
      // Frames that arrived while loading are newer than the listing.
      (loaded) => setCounts((live) => new Map([...loaded, ...live])),
      () => undefined,
    );
    return () => abort.abort();
  }, [session, spaces.value]);

  /** Runs a change, then reloads the tree; a refusal is shown. */
  const { problem, act: change } = useChanges(() => spaces.reload());

  const list = spaces.value;
  return (
    <>
      <div class="toolbar">
        <span class={`pill pill--${status}`} data-testid="occupancy-status">
          <span class="pill-dot" aria-hidden="true" />
          {status}
        </span>
      </div>
      <Problem message={spaces.error ?? problem} />
      <NewSpace
        spaces={list ?? []}
        onCreate={(body) => change(() => occupancy.createSpace(session.api, body))}
      />
      {list === undefined ? null : list.length === 0 ? (
        <div class="placeholder" data-testid="occupancy-empty">
          <p class="placeholder-title">No spaces yet</p>
          <p>Create a building above, then its floors and rooms inside it.</p>
        </div>
      ) : (
        <ul class="space-tree" data-testid="space-tree">
          {buildTree(list).map((node) => (
            <SpaceItem
              key={node.space.id}
              node={node}
              counts={counts}
              spaces={list}
              session={session}
              change={change}
            />
          ))}
        </ul>
      )}
    </>
  );
}

/** The form that creates a space: a name, a parent, and optionally a capacity. */
function NewSpace(props: {
  spaces: readonly Space[];
  onCreate: (body: { name: string; parent: string | null; capacity: number | null }) => Promise<unknown>;
}) {
  const [name, setName] = useState('');
  const [parent, setParent] = useState('');
  const [capacity, setCapacity] = useState('');
  const submit = (event: Event) => {
    event.preventDefault();
    void props
      .onCreate({
        name,
        parent: parent === '' ? null : parent,
        capacity: capacity === '' ? null : Number(capacity),
      })
      .then(() => {
        setName('');
        setCapacity('');
      });
  };
  return (
    <form class="occupancy-form" onSubmit={submit}>
      <label>
        New space
        <input
          class="input"
          required
          data-testid="space-new-name"
          placeholder="Name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label>
        Inside
        <SpaceSelect
          spaces={props.spaces}
          value={parent}
          onValue={setParent}
          testid="space-new-parent"
          none="(top level)"
        />
      </label>
      <label>
        Capacity
        <input
          class="input input--narrow"
          type="number"
          min="0"
          data-testid="space-new-capacity"
          value={capacity}
          onInput={(e) => setCapacity(e.currentTarget.value)}
        />
      </label>
      <button type="submit" class="button button--primary" data-testid="space-create">
        Create
      </button>
    </form>
  );
}

/** A select of spaces (by name), with a first option for none. */
export function SpaceSelect(props: {
  spaces: readonly Space[];
  value: string;
  onValue: (value: string) => void;
  testid: string;
  none: string;
  exclude?: ReadonlySet<string>;
}) {
  return (
    <select
      class="input"
      data-testid={props.testid}
      value={props.value}
      onChange={(e) => props.onValue(e.currentTarget.value)}
    >
      <option value="">{props.none}</option>
      {props.spaces
        .filter((s) => !props.exclude?.has(s.id))
        .map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
    </select>
  );
}

/** One space in the tree: its live count against its capacity, and rename, move and delete. */
function SpaceItem(props: {
  node: SpaceNode;
  counts: ReadonlyMap<string, Count>;
  spaces: readonly Space[];
  session: Session;
  change: (action: () => Promise<unknown>) => Promise<void>;
}) {
  const { node, counts, session, change } = props;
  const space = node.space;
  const count = counts.get(space.id);
  const [mode, setMode] = useState<'view' | 'rename' | 'move' | 'delete'>('view');
  const [name, setName] = useState(space.name);
  const [parent, setParent] = useState(space.parent ?? '');
  const [at, setAt] = useState(() => localInput(new Date()));
  const over = count !== undefined && space.capacity != null && count.count > space.capacity;
  const done = (action: () => Promise<unknown>) => void change(action).then(() => setMode('view'));
  return (
    <li>
      <div
        class={over ? 'space-row space-row--over' : 'space-row'}
        data-testid="space-row"
        data-space={space.id}
      >
        <SearchLink search={`?space=${encodeURIComponent(space.id)}`} class="space-name">
          {space.name}
        </SearchLink>
        <span class="space-count" data-testid="space-count" title={count ? `raw ${count.raw}` : undefined}>
          {count ? count.count : '–'}
        </span>
        {space.capacity != null && (
          <span class="space-capacity" data-testid="space-capacity">
            / {space.capacity}
          </span>
        )}
        {count && count.raw !== count.count && <span class="space-raw">raw {count.raw}</span>}
        {mode === 'view' && (
          <span class="space-actions">
            <button
              type="button"
              class="button button--small button--quiet"
              data-testid="space-rename"
              onClick={() => setMode('rename')}
            >
              Rename
            </button>
            <button
              type="button"
              class="button button--small button--quiet"
              data-testid="space-move"
              onClick={() => setMode('move')}
            >
              Move
            </button>
            <button
              type="button"
              class="button button--small button--quiet"
              data-testid="space-delete"
              onClick={() => setMode('delete')}
            >
              Delete
            </button>
          </span>
        )}
      </div>
      {mode === 'rename' && (
        <form
          class="occupancy-form occupancy-form--inline"
          onSubmit={(e) => {
            e.preventDefault();
            done(() => occupancy.changeSpace(session.api, space.id, { name }));
          }}
        >
          <input
            class="input"
            required
            data-testid="space-rename-input"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <button type="submit" class="button button--small button--primary" data-testid="space-rename-save">
            Save
          </button>
          <button type="button" class="button button--small button--quiet" onClick={() => setMode('view')}>
            Cancel
          </button>
        </form>
      )}
      {mode === 'move' && (
        <form
          class="occupancy-form occupancy-form--inline"
          onSubmit={(e) => {
            e.preventDefault();
            done(() =>
              occupancy.moveSpace(session.api, space.id, parent === '' ? null : parent, new Date(at)),
            );
          }}
        >
          <span>Inside</span>
          <SpaceSelect
            spaces={props.spaces}
            value={parent}
            onValue={setParent}
            testid="space-move-parent"
            none="(top level)"
            exclude={descendants(props.spaces, space.id)}
          />
          <span>from</span>
          <input
            class="input"
            type="datetime-local"
            required
            data-testid="space-move-at"
            value={at}
            onInput={(e) => setAt(e.currentTarget.value)}
          />
          <button type="submit" class="button button--small button--primary" data-testid="space-move-save">
            Move
          </button>
          <button type="button" class="button button--small button--quiet" onClick={() => setMode('view')}>
            Cancel
          </button>
          <span class="occupancy-note">
            Counts before that time stay as they were; from it, the people inside go along.
          </span>
        </form>
      )}
      {mode === 'delete' && (
        <div class="notice notice--error occupancy-confirm" role="alertdialog">
          <span>
            Delete {space.name}? Only a space with no doorways and no spaces inside it (now or before) can go.
          </span>
          <button
            type="button"
            class="button button--small"
            data-testid="space-delete-confirm"
            onClick={() => done(() => occupancy.deleteSpace(session.api, space.id))}
          >
            Delete
          </button>
          <button type="button" class="button button--small button--quiet" onClick={() => setMode('view')}>
            Keep it
          </button>
        </div>
      )}
      {node.children.length > 0 && (
        <ul>
          {node.children.map((child) => (
            <SpaceItem key={child.space.id} {...props} node={child} />
          ))}
        </ul>
      )}
    </li>
  );
}
