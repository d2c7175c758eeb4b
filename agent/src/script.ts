/**
 * The `<script defer src=".../agent.js" data-site="SITE_ID">` entry. Calls made before it loaded, through
 * the snippet's stub `window.beacon = window.beacon || function () { (beacon.q = beacon.q || []).push(arguments) }`,
 * are replayed in order, then `window.beacon(name, props, revenue)` tracks directly.
 */
import { createAgent, type Props, type Revenue } from './agent.ts';

type Stub = ((name: string, props?: Props, revenue?: Revenue) => void) & { q?: ArrayLike<unknown>[] };
const w = window as unknown as Window & { beacon?: Stub };
const script = document.currentScript as HTMLScriptElement;
const data = script.dataset;
const agent = createAgent({
  site: data.site!,
  endpoint: data.api ?? new URL(script.src).origin,
  respectDnt: data.dnt !== undefined,
  socket: data.ws !== undefined,
});
const pending = w.beacon?.q ?? [];
const { track } = agent;
w.beacon = track;
for (const args of pending)
  track(args[0] as string, args[1] as Props | undefined, args[2] as Revenue | undefined);
