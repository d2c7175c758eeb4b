import assert from 'node:assert/strict';
import { eventually, type TestBeacon } from './server.ts';

/** POSTs JSON with the admin token and checks the status; returns the parsed body. */
export async function call<T = Record<string, unknown>>(
  beacon: TestBeacon,
  method: string,
  path: string,
  json: unknown,
  status: number,
): Promise<T> {
  const res = await beacon.request(path, { method, ...(json === undefined ? {} : { json }) });
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${path} → ${res.status} ${text}`);
  return (text === '' ? {} : JSON.parse(text)) as T;
}

/** GETs JSON with the admin token, expecting 200. */
export const get = <T = Record<string, unknown>>(beacon: TestBeacon, path: string) =>
  call<T>(beacon, 'GET', path, undefined, 200);

/** Waits until the occupancy sink has stored everything the log holds. */
export async function settled(beacon: TestBeacon): Promise<void> {
  await eventually(
    async () => {
      const end = (await beacon.log.endOffsets('sensor-events')).get(0) ?? 0;
      const saved = await beacon.store.checkpoints('sink-occupancy', 'sensor-events');
      const at = saved.find((c) => c.partition === 0)?.offset ?? 0;
      return at >= end || end <= 1 ? true : undefined;
    },
    20_000,
    'the occupancy sink to catch up',
  );
}

export interface Crossing {
  sensor: string;
  ts: string;
  direction: 1 | -1;
  id?: string;
  sequence?: number;
}

/** Posts sensor events and waits until they are counted. */
export async function cross(beacon: TestBeacon, events: Crossing[]) {
  const body = await call<{ accepted: number; duplicates: number; unplaced: number }>(
    beacon,
    'POST',
    '/v1/sensor-events',
    events,
    202,
  );
  await settled(beacon);
  return body;
}

export interface CountBody {
  space: string;
  count: number;
  raw: number;
  asOf: string;
  provisional: boolean;
}

/** The count of a space at a time (ISO), as the API answers it. */
export const countAt = (beacon: TestBeacon, space: string, at: string) =>
  get<CountBody>(beacon, `/v1/spaces/${space}/count?at=${encodeURIComponent(at)}`);

/** Creates spaces, doorways, sensors and placements, in that order. */
export async function model(
  beacon: TestBeacon,
  m: {
    spaces?: { id: string; name?: string; parent?: string | null; openHours?: unknown }[];
    doorways?: { id: string; a: string; b: string | null }[];
    sensors?: string[];
    placements?: {
      id?: string;
      sensor: string;
      doorway: string;
      positive: 'a' | 'b';
      from: string;
      to?: string | null;
    }[];
  },
): Promise<void> {
  for (const s of m.spaces ?? []) await call(beacon, 'POST', '/v1/spaces', { name: s.id, ...s }, 201);
  for (const d of m.doorways ?? []) await call(beacon, 'POST', '/v1/doorways', { name: d.id, ...d }, 201);
  for (const id of m.sensors ?? []) await call(beacon, 'POST', '/v1/sensors', { id, name: id }, 201);
  for (const p of m.placements ?? []) await call(beacon, 'POST', '/v1/placements', p, 201);
}
