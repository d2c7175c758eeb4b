/**
 * Which methods each route path answers, so a request with another method on a known path is
 * answered 405 with `Allow` (RFC 9110) instead of 404. Paths use Fastify's syntax: `:param`
 * segments and a trailing `*`.
 */
export class RouteMethods {
  readonly #routes: { readonly pattern: RegExp; readonly params: number; readonly methods: Set<string> }[] =
    [];
  readonly #byUrl = new Map<string, Set<string>>();

  /** Records a route as Fastify's `onRoute` hook reports it. */
  add(method: string | readonly string[], url: string): void {
    let methods = this.#byUrl.get(url);
    if (!methods) {
      methods = new Set();
      this.#byUrl.set(url, methods);
      this.#routes.push({ pattern: compile(url), params: paramsOf(url), methods });
    }
    for (const m of typeof method === 'string' ? [method] : method) methods.add(m.toUpperCase());
  }

  /**
   * The methods the resource at `path` answers, sorted; empty when no route has the path. Of the
   * routes whose pattern matches, the most specific (fewest parameters) is the resource:
   * `/v1/sites/bulk` is its own resource, not a site called `bulk`.
   */
  allowed(path: string): string[] {
    const matching = this.#routes.filter((route) => route.pattern.test(path));
    const fewest = Math.min(...matching.map((route) => route.params));
    const methods = new Set<string>();
    for (const route of matching) if (route.params === fewest) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  }
}

/** Parameter and wildcard segments: the fewer, the more specific the route. */
const paramsOf = (url: string) => url.split('/').filter((s) => s === '*' || s.startsWith(':')).length;

function compile(url: string): RegExp {
  const segments = url.split('/').map((segment) => {
    if (segment === '*') return '.*';
    if (segment.startsWith(':')) return '[^/]+';
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}$`);
}
