import { useState } from 'preact/hooks';
import type { Session } from '../auth.ts';
import { formatDateTime } from '../format.ts';
import {
  loadSpaces,
  localInput,
  occupancy,
  timeline,
  type Doorway,
  type Placement,
  type Sensor,
  type Space,
  type UnplacedEvent,
} from '../occupancy.ts';
import { useChanges, useResource } from '../use-resource.ts';
import { Problem, SpaceSelect } from './occupancy.tsx';

/** What the setup view works on, loaded together. */
interface Setup {
  readonly spaces: Space[];
  readonly doorways: Doorway[];
  readonly sensors: Sensor[];
  readonly placements: Placement[];
}

/**
 * Doorways and sensors, created and deleted here, and for each doorway a timeline of the sensors
 * placed on it: a sensor is moved onto a doorway from a date (its placement elsewhere ends then), and
 * a placement is ended at a date.
 */
export function SetupView({ session }: { session: Session }) {
  const api = session.api;
  const setup = useResource(
    async (signal): Promise<Setup> => {
      const [spaces, doorways, sensors, placements] = await Promise.all([
        loadSpaces(api, signal),
        occupancy.doorways(api, signal),
        occupancy.sensors(api, signal),
        occupancy.placements(api, signal),
      ]);
      return { spaces, doorways, sensors, placements };
    },
    [session],
  );
  const { problem, act } = useChanges(() => setup.reload());
  const s = setup.value;
  const names = new Map(s?.spaces.map((x) => [x.id, x.name]));
  return (
    <>
      <Problem message={setup.error ?? problem} />
      {s && (
        <div class="occupancy-panels">
          <section class="occupancy-panel">
            <h2>Doorways</h2>
            <NewDoorway
              spaces={s.spaces}
              onCreate={(body) => act(() => occupancy.createDoorway(api, body))}
            />
            <ul class="occupancy-list">
              {s.doorways.map((d) => (
                <li key={d.id} data-testid="doorway-row" data-id={d.id}>
                  <strong>{d.name}</strong>
                  <span class="occupancy-note">
                    {names.get(d.a) ?? d.a} ⇄ {d.b === null ? 'outside' : (names.get(d.b) ?? d.b)}
                  </span>
                  <button
                    type="button"
                    class="button button--small button--quiet"
                    data-testid="doorway-delete"
                    onClick={() => void act(() => occupancy.deleteDoorway(api, d.id))}
                  >
                    Delete
                  </button>
                </li>
              ))}
            </ul>
          </section>
          <section class="occupancy-panel">
            <h2>Sensors</h2>
            <NewSensor onCreate={(body) => act(() => occupancy.createSensor(api, body))} />
            <ul class="occupancy-list">
              {s.sensors.map((x) => (
                <li key={x.id} data-testid="sensor-row" data-id={x.id}>
                  <strong>{x.name}</strong>
                  <code>{x.id}</code>
                  <button
                    type="button"
                    class="button button--small button--quiet"
                    data-testid="sensor-delete"
                    onClick={() => void act(() => occupancy.deleteSensor(api, x.id))}
                  >
                    Delete
                  </button>
                </li>
              ))}
            </ul>
          </section>
          <section class="occupancy-panel occupancy-panel--wide">
            <h2>Placements</h2>
            {s.doorways.length === 0 && <p class="occupancy-note">Create a doorway first.</p>}
            {s.doorways.map((d) => (
              <DoorwayTimeline key={d.id} session={session} doorway={d} setup={s} names={names} act={act} />
            ))}
          </section>
        </div>
      )}
    </>
  );
}

function NewDoorway(props: {
  spaces: readonly Space[];
  onCreate: (body: { name: string; a: string; b: string | null }) => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  return (
    <form
      class="occupancy-form"
      onSubmit={(e) => {
        e.preventDefault();
        void props.onCreate({ name, a, b: b === '' ? null : b }).then(() => setName(''));
      }}
    >
      <input
        class="input"
        required
        placeholder="Name"
        data-testid="doorway-new-name"
        value={name}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <SpaceSelect spaces={props.spaces} value={a} onValue={setA} testid="doorway-new-a" none="Side a…" />
      <SpaceSelect
        spaces={props.spaces}
        value={b}
        onValue={setB}
        testid="doorway-new-b"
        none="Side b: outside"
      />
      <button type="submit" class="button button--primary" data-testid="doorway-create" disabled={a === ''}>
        Add doorway
      </button>
    </form>
  );
}

function NewSensor(props: { onCreate: (body: { id?: string; name: string }) => Promise<void> }) {
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  return (
    <form
      class="occupancy-form"
      onSubmit={(e) => {
        e.preventDefault();
        void props.onCreate({ ...(id === '' ? {} : { id }), name }).then(() => {
          setId('');
          setName('');
        });
      }}
    >
      <input
        class="input"
        placeholder="Serial (id it sends)"
        data-testid="sensor-new-id"
        value={id}
        onInput={(e) => setId(e.currentTarget.value)}
      />
      <input
        class="input"
        required
        placeholder="Name"
        data-testid="sensor-new-name"
        value={name}
        onInput={(e) => setName(e.currentTarget.value)}
      />
      <button type="submit" class="button button--primary" data-testid="sensor-create">
        Register sensor
      </button>
    </form>
  );
}

/**
 * A doorway's placements on a time axis; a sensor is placed here from a date (ending its placement
 * elsewhere then), and a placement ends at a date.
 */
function DoorwayTimeline(props: {
  session: Session;
  doorway: Doorway;
  setup: Setup;
  names: ReadonlyMap<string, string>;
  act: (action: () => Promise<unknown>) => Promise<void>;
}) {
  const { session, doorway, setup, names, act } = props;
  const api = session.api;
  const placements = setup.placements.filter((p) => p.doorway === doorway.id);
  const now = Date.now();
  const line = timeline(placements, now);
  const [sensor, setSensor] = useState('');
  const [positive, setPositive] = useState<'a' | 'b'>('a');
  const [from, setFrom] = useState(() => localInput(new Date()));
  const [endAt, setEndAt] = useState(() => localInput(new Date()));
  const sideA = names.get(doorway.a) ?? doorway.a;
  const sideB = doorway.b === null ? 'outside' : (names.get(doorway.b) ?? doorway.b);

  /** Ends the sensor's placement in force at `at` (if any, and if it runs past it), then places it here. */
  const moveHere = async () => {
    const at = new Date(from);
    const open = setup.placements.find(
      (p) =>
        p.sensor === sensor &&
        Date.parse(p.from) < at.getTime() &&
        (p.to === null || Date.parse(p.to) > at.getTime()),
    );
    if (open) await occupancy.endPlacement(api, open.id, at);
    await occupancy.place(api, { sensor, doorway: doorway.id, positive, from: at.toISOString() });
  };
  /** The placement a move to `p` ended: the sensor's placement that ends just as `p` starts. */
  const movedFrom = (p: Placement) =>
    setup.placements.find((q) => q.sensor === p.sensor && q.id !== p.id && q.to === p.from);
  /**
   * Takes a move back: `p` goes, and the placement it ended runs on to where `p` ran (its events
   * counted there again). Deleted first, since the two would overlap until then.
   */
  const undoMove = async (p: Placement, before: Placement) => {
    await occupancy.deletePlacement(api, p.id);
    await occupancy.endPlacement(api, before.id, p.to === null ? null : new Date(p.to));
  };

  return (
    <div class="placement-doorway" data-testid="placement-timeline" data-doorway={doorway.id}>
      <div class="placement-head">
        <strong>{doorway.name}</strong>
        <span class="occupancy-note">
          a: {sideA} · b: {sideB}
        </span>
      </div>
      <div class="placement-track">
        {line.bars.map(({ placement: p, left, width }) => (
          <div
            key={p.id}
            class={p.to === null ? 'placement-bar placement-bar--open' : 'placement-bar'}
            style={{ left: `${left * 100}%`, width: `${Math.max(width * 100, 0.5)}%` }}
            data-testid="placement-bar"
            data-sensor={p.sensor}
            data-open={p.to === null}
            title={`${p.sensor}: +1 enters ${p.positive === 'a' ? sideA : sideB}; ${formatDateTime(Date.parse(p.from))} – ${p.to ? formatDateTime(Date.parse(p.to)) : 'now'}`}
          >
            {p.sensor}
          </div>
        ))}
        {line.bars.length > 0 && (
          <div
            class="placement-now"
            style={{ left: `${((now - line.start) / (line.end - line.start)) * 100}%` }}
          />
        )}
      </div>
      {line.bars.length > 0 && (
        <div class="placement-axis occupancy-note">
          <span>{formatDateTime(line.start)}</span>
          <span>now</span>
        </div>
      )}
      <ul class="occupancy-list">
        {placements.map((p) => (
          <li key={p.id} data-testid="placement-row" data-sensor={p.sensor}>
            <span>{p.sensor}</span>
            <span class="occupancy-note">
              {formatDateTime(Date.parse(p.from))} – {p.to ? formatDateTime(Date.parse(p.to)) : 'in force'} ·
              +1 enters {p.positive === 'a' ? sideA : sideB}
            </span>
            {p.to === null && (
              <>
                <input
                  class="input"
                  type="datetime-local"
                  data-testid="placement-end-at"
                  value={endAt}
                  onInput={(e) => setEndAt(e.currentTarget.value)}
                />
                <button
                  type="button"
                  class="button button--small"
                  data-testid="placement-end"
                  onClick={() => void act(() => occupancy.endPlacement(api, p.id, new Date(endAt)))}
                >
                  End here
                </button>
              </>
            )}
            {(() => {
              const before = movedFrom(p);
              return (
                before && (
                  <button
                    type="button"
                    class="button button--small"
                    data-testid="placement-undo-move"
                    title={`Remove this placement; ${p.sensor} stays on ${setup.doorways.find((d) => d.id === before.doorway)?.name ?? before.doorway} instead`}
                    onClick={() => void act(() => undoMove(p, before))}
                  >
                    Undo move
                  </button>
                )
              );
            })()}
            <button
              type="button"
              class="button button--small button--quiet"
              data-testid="placement-delete"
              onClick={() => void act(() => occupancy.deletePlacement(api, p.id))}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      <form
        class="occupancy-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(moveHere);
        }}
      >
        <select
          class="input"
          required
          data-testid="placement-new-sensor"
          value={sensor}
          onChange={(e) => setSensor(e.currentTarget.value)}
        >
          <option value="">Sensor…</option>
          {setup.sensors.map((x) => (
            <option key={x.id} value={x.id}>
              {x.name}
            </option>
          ))}
        </select>
        <select
          class="input"
          data-testid="placement-new-positive"
          value={positive}
          onChange={(e) => setPositive(e.currentTarget.value as 'a' | 'b')}
        >
          <option value="a">+1 enters {sideA}</option>
          <option value="b">+1 enters {sideB}</option>
        </select>
        <span>from</span>
        <input
          class="input"
          type="datetime-local"
          required
          data-testid="placement-new-from"
          value={from}
          onInput={(e) => setFrom(e.currentTarget.value)}
        />
        <button type="submit" class="button button--primary" data-testid="placement-create">
          Place here
        </button>
      </form>
    </div>
  );
}

/** Events no placement covers: kept, not counted until a placement covers them. */
export function UnplacedView({ session }: { session: Session }) {
  const [sensor, setSensor] = useState('');
  const [pages, setPages] = useState<{ items: UnplacedEvent[]; next: string | null }[]>([]);
  const first = useResource(
    async (signal) => {
      const page = await occupancy.unplaced(session.api, null, sensor, signal);
      setPages([page]);
      return page;
    },
    [session, sensor],
  );
  const [problem, setProblem] = useState<string | null>(null);
  const next = pages.at(-1)?.next ?? null;
  const events = pages.flatMap((p) => p.items);
  return (
    <section class="occupancy-panel occupancy-panel--wide">
      <h2>Unplaced events</h2>
      <p class="occupancy-note">
        Crossings from sensors no placement covered at their time. They are kept, and counted as soon as a
        placement covers them.
      </p>
      <form class="occupancy-form" onSubmit={(e) => e.preventDefault()}>
        <input
          class="input"
          placeholder="Sensor id"
          data-testid="unplaced-sensor"
          value={sensor}
          onChange={(e) => setSensor(e.currentTarget.value)}
        />
      </form>
      <Problem message={first.error ?? problem} />
      {first.value && events.length === 0 && (
        <p class="occupancy-note" data-testid="unplaced-empty">
          None: every event counts.
        </p>
      )}
      <table class="uptime-table">
        <tbody>
          {events.map((e) => (
            <tr key={e.key} data-testid="unplaced-row" data-sensor={e.sensor}>
              <td>{formatDateTime(Date.parse(e.ts))}</td>
              <td>{e.sensor}</td>
              <td class="num">{e.direction > 0 ? '+1' : '−1'}</td>
              <td class="occupancy-note">received {formatDateTime(Date.parse(e.receivedAt))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next !== null && (
        <button
          type="button"
          class="button"
          data-testid="unplaced-more"
          onClick={() =>
            void occupancy.unplaced(session.api, next, sensor).then(
              (page) => setPages((p) => [...p, page]),
              (err: Error) => setProblem(err.message),
            )
          }
        >
          More
        </button>
      )}
    </section>
  );
}
