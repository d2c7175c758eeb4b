import { callJson } from './api.ts';

/** A notification channel as `GET /v1/channels` lists it: never its URL. */
export interface ChannelView {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly summary: string;
  readonly hasTemplate: boolean;
  readonly source: 'api' | 'file';
}

/** A service a channel can send to. */
export interface ChannelKind {
  readonly kind: string;
  readonly label: string;
  readonly schemes: readonly string[];
}

/** What "send a test" answered. */
export interface TestResult {
  readonly ok: boolean;
  readonly status: number | null;
  readonly answer: string;
  readonly retry: boolean;
}

/** An alert rule. */
export interface AlertRuleView {
  readonly id: string;
  readonly name?: string;
  readonly targets: readonly string[];
  readonly tags: readonly string[];
  readonly channels: readonly string[];
  readonly downAfter?: number;
  readonly remindEveryMinutes: number;
  readonly notifyOn: {
    readonly recovery: boolean;
    readonly degraded: boolean;
    readonly certificate: boolean;
  };
  readonly groupWindowSeconds: number;
  readonly source: 'api' | 'file';
}

/** A maintenance window, with its occurrence in force or next. */
export interface MaintenanceView {
  readonly id: string;
  readonly title: string;
  readonly targets: readonly string[];
  readonly tags: readonly string[];
  readonly start: string;
  readonly end?: string;
  readonly rrule?: string;
  readonly durationMinutes?: number;
  readonly timeZone: string;
  readonly source: 'api' | 'file';
  readonly active: boolean;
  readonly next: { readonly start: string; readonly end: string } | null;
}

/** One notification to one channel and how it went. */
export interface DeliveryView {
  readonly id: number;
  readonly channel: string;
  readonly event: string;
  readonly severity: string;
  readonly title: string;
  readonly queuedAt: string;
  readonly state: 'pending' | 'sent' | 'failed';
  readonly attempts: number;
  readonly sentAt: string | null;
  readonly status: number | null;
  readonly answer: string | null;
  readonly batchSize: number | null;
}

const items = <T>(body: unknown): T[] => (body as { items?: T[] } | null)?.items ?? [];
const id = (s: string) => encodeURIComponent(s);

/** Alerting as one token sees it: channels, rules, maintenance windows and delivery history. */
export class AlertsApi {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  #call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    return callJson(this.#token, method, path, body, signal);
  }

  async channels(signal?: AbortSignal): Promise<ChannelView[]> {
    return items<ChannelView>(await this.#call('GET', '/v1/channels?limit=500', undefined, signal));
  }
  async channelKinds(signal?: AbortSignal): Promise<ChannelKind[]> {
    return items<ChannelKind>(await this.#call('GET', '/v1/channel-kinds', undefined, signal));
  }
  async createChannel(body: { name: string; url: string; template?: string }): Promise<ChannelView> {
    return (await this.#call('POST', '/v1/channels', body)) as ChannelView;
  }
  async testChannel(channel: string): Promise<TestResult> {
    return (await this.#call('POST', `/v1/channels/${id(channel)}/test`)) as TestResult;
  }
  async deleteChannel(channel: string): Promise<void> {
    await this.#call('DELETE', `/v1/channels/${id(channel)}`);
  }

  async rules(signal?: AbortSignal): Promise<AlertRuleView[]> {
    return items<AlertRuleView>(await this.#call('GET', '/v1/alert-rules?limit=500', undefined, signal));
  }
  async createRule(body: Record<string, unknown>): Promise<AlertRuleView> {
    return (await this.#call('POST', '/v1/alert-rules', body)) as AlertRuleView;
  }
  async deleteRule(rule: string): Promise<void> {
    await this.#call('DELETE', `/v1/alert-rules/${id(rule)}`);
  }

  async windows(signal?: AbortSignal): Promise<MaintenanceView[]> {
    return items<MaintenanceView>(
      await this.#call('GET', '/v1/maintenance-windows?limit=500', undefined, signal),
    );
  }
  async createWindow(body: Record<string, unknown>): Promise<MaintenanceView> {
    return (await this.#call('POST', '/v1/maintenance-windows', body)) as MaintenanceView;
  }
  async deleteWindow(window: string): Promise<void> {
    await this.#call('DELETE', `/v1/maintenance-windows/${id(window)}`);
  }

  async targetWindows(target: string, signal?: AbortSignal): Promise<MaintenanceView[]> {
    return items<MaintenanceView>(
      await this.#call('GET', `/v1/targets/${id(target)}/maintenance-windows`, undefined, signal),
    );
  }
  async targetDeliveries(target: string, signal?: AbortSignal): Promise<DeliveryView[]> {
    return items<DeliveryView>(
      await this.#call('GET', `/v1/targets/${id(target)}/deliveries?limit=50`, undefined, signal),
    );
  }
}
