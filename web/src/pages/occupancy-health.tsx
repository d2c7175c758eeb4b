import type { Session } from '../auth.ts';
import { formatDateTime } from '../format.ts';
import { duration, occupancy } from '../occupancy.ts';
import { useResource } from '../use-resource.ts';
import { Problem } from './occupancy.tsx';

/**
 * Sensor health (last event, silent sensors), doorway drift over the last week, the alerts they and
 * capacities raised, and the notifications sent for them.
 */
export function HealthView({ session }: { session: Session }) {
  const api = session.api;
  const health = useResource((signal) => occupancy.sensorHealth(api, signal), [session]);
  const drift = useResource((signal) => occupancy.drift(api, signal), [session]);
  const alerts = useResource((signal) => occupancy.alerts(api, undefined, signal), [session]);
  const sent = useResource((signal) => occupancy.notifications(api, signal), [session]);
  const days = drift.value?.[0]?.days ?? [];
  return (
    <div class="occupancy-panels">
      <Problem message={health.error ?? drift.error ?? alerts.error ?? sent.error} />
      <section class="occupancy-panel occupancy-panel--wide">
        <h2>Sensors</h2>
        <table class="uptime-table">
          <thead>
            <tr>
              <th>Sensor</th>
              <th>Status</th>
              <th>Doorway</th>
              <th>Last event</th>
              <th>Silent for (open time)</th>
            </tr>
          </thead>
          <tbody>
            {health.value?.map((h) => (
              <tr key={h.sensor} data-testid="health-row" data-sensor={h.sensor} data-status={h.status}>
                <td>{h.name}</td>
                <td>
                  <span class={`pill health--${h.status}`}>
                    <span class="pill-dot" aria-hidden="true" />
                    {h.status}
                  </span>
                </td>
                <td>{h.doorway ?? '–'}</td>
                <td>{h.lastEventAt ? formatDateTime(Date.parse(h.lastEventAt)) : 'never'}</td>
                <td class="num">{h.silentForMs === null ? '–' : duration(h.silentForMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="occupancy-panel occupancy-panel--wide">
        <h2>Doorway drift</h2>
        <p class="occupancy-note">
          People in / out per day. A day whose in and out differ beyond the threshold is marked: a sensor
          misses crossings, and a headcount on the space sets its count right.
        </p>
        <table class="uptime-table drift-table">
          <thead>
            <tr>
              <th>Doorway</th>
              {days.map((d) => (
                <th key={d.day}>{d.day.slice(5)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {drift.value?.map((d) => (
              <tr key={d.doorway} data-testid="drift-row" data-doorway={d.doorway}>
                <td>{d.name}</td>
                {d.days.map((day) => (
                  <td
                    key={day.day}
                    class={day.flagged ? 'num drift--flagged' : 'num'}
                    data-flagged={day.flagged}
                  >
                    {day.in}/{day.out}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="occupancy-panel">
        <h2>Alerts</h2>
        <ul class="occupancy-list">
          {alerts.value?.map((a) => (
            <li key={a.id} data-testid="alert-row" data-kind={a.kind} data-subject={a.subject}>
              <span class={a.closedAt ? 'pill' : 'pill health--silent'}>
                <span class="pill-dot" aria-hidden="true" />
                {a.kind}
              </span>
              <span>{a.subject}</span>
              <span class="occupancy-note">
                {formatDateTime(Date.parse(a.openedAt))}
                {a.closedAt ? ` – ${formatDateTime(Date.parse(a.closedAt))}` : ' · open'}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <section class="occupancy-panel">
        <h2>Notifications</h2>
        <ul class="occupancy-list">
          {sent.value?.map((n) => (
            <li key={n.id} data-testid="notification-row" data-delivered={n.deliveredAt !== null}>
              <span>{n.event.summary}</span>
              <span class="occupancy-note">
                {n.deliveredAt
                  ? `sent ${formatDateTime(Date.parse(n.deliveredAt))}`
                  : `${n.attempts} attempt${n.attempts === 1 ? '' : 's'}${n.lastError ? `: ${n.lastError}` : ''}`}
              </span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
