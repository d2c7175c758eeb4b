import { callJson } from './api.ts';

/** A group of a status page: target ids, or a tag. */
export interface StatusGroup {
  readonly name: string;
  readonly targets?: readonly string[];
  readonly tag?: string;
}

/** What a status page is made of, as the dashboard sends it. */
export interface StatusPageSpec {
  readonly slug: string;
  readonly title: string;
  readonly description: string;
  readonly groups: readonly StatusGroup[];
  readonly domain?: string;
  readonly theme: 'light' | 'dark';
  readonly showResponseTimes: boolean;
  readonly showTargetUrls: boolean;
}

/** A status page as `/v1/status-pages` returns it. */
export interface StatusPageView extends StatusPageSpec {
  readonly id: string;
  /** The public page. */
  readonly url: string;
  readonly updatedAt: string;
}

export const UPDATE_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

/** An incident update as written. */
export interface StatusUpdateSpec {
  readonly title: string;
  readonly body: string;
  readonly status: UpdateStatus;
  /** ISO time; absent: now (on create) or unchanged (on edit). */
  readonly at?: string;
}

export interface StatusUpdateView extends StatusUpdateSpec {
  readonly id: string;
  readonly at: string;
}

const items = <T>(body: unknown): T[] => (body as { items?: T[] } | null)?.items ?? [];
const id = (s: string) => encodeURIComponent(s);

/** Status pages and their incident updates as one token sees them. */
export class StatusPagesApi {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  #call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    return callJson(this.#token, method, path, body, signal);
  }

  async pages(signal?: AbortSignal): Promise<StatusPageView[]> {
    return items<StatusPageView>(await this.#call('GET', '/v1/status-pages?limit=500', undefined, signal));
  }
  async create(spec: StatusPageSpec): Promise<StatusPageView> {
    return (await this.#call('POST', '/v1/status-pages', spec)) as StatusPageView;
  }
  async replace(page: string, spec: StatusPageSpec): Promise<StatusPageView> {
    return (await this.#call('PUT', `/v1/status-pages/${id(page)}`, spec)) as StatusPageView;
  }
  async delete(page: string): Promise<void> {
    await this.#call('DELETE', `/v1/status-pages/${id(page)}`);
  }

  async updates(page: string, signal?: AbortSignal): Promise<StatusUpdateView[]> {
    return items<StatusUpdateView>(
      await this.#call('GET', `/v1/status-pages/${id(page)}/updates?limit=100`, undefined, signal),
    );
  }
  async publish(page: string, update: StatusUpdateSpec): Promise<StatusUpdateView> {
    return (await this.#call('POST', `/v1/status-pages/${id(page)}/updates`, update)) as StatusUpdateView;
  }
  async edit(page: string, update: string, spec: StatusUpdateSpec): Promise<StatusUpdateView> {
    return (await this.#call(
      'PUT',
      `/v1/status-pages/${id(page)}/updates/${id(update)}`,
      spec,
    )) as StatusUpdateView;
  }
  async unpublish(page: string, update: string): Promise<void> {
    await this.#call('DELETE', `/v1/status-pages/${id(page)}/updates/${id(update)}`);
  }
}

/**
 * Groups as typed, one a line: `Name: id, id` lists targets, `Name: #tag` takes a tag's targets.
 * Throws on a line without a name.
 */
export function parseGroups(text: string): StatusGroup[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const colon = line.indexOf(':');
      if (colon < 1) throw new Error(`"${line}": write a group as "Name: target, target" or "Name: #tag"`);
      const name = line.slice(0, colon).trim();
      const rest = line.slice(colon + 1).trim();
      if (rest.startsWith('#')) return { name, tag: rest.slice(1).trim() };
      return { name, targets: rest.split(/[\s,]+/).filter((w) => w !== '') };
    });
}

/** Groups as the form shows them: the inverse of `parseGroups`. */
export const groupsText = (groups: readonly StatusGroup[]): string =>
  groups
    .map((g) => `${g.name}: ${g.tag !== undefined ? `#${g.tag}` : (g.targets ?? []).join(', ')}`)
    .join('\n');
