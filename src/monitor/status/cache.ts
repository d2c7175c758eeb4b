import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** A rendered public answer: its body (plain and gzipped), content type and entity tag. */
export interface Rendered {
  readonly body: string;
  /** The body gzipped, made once with the render: a 100-target page shrinks about twentyfold. */
  readonly gzip: Buffer;
  readonly type: string;
  /** Of the plain body; the gzipped one's ends in `-gz`. */
  readonly etag: string;
}

/** The entity tag of a body: a hash of it, so equal bodies match across processes. */
export const etagOf = (body: string): string =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;

/** A body ready to send, in both encodings. */
export const renderedOf = (body: string, type: string): Rendered => ({
  body,
  gzip: gzipSync(body),
  type,
  etag: etagOf(body),
});

/**
 * What public status pages reuse for `ttlMs`: each rendered form of a page by slug, and the slug a
 * custom domain leads to (or that none does). A write through this process's API forgets the page at
 * once; other processes see it when their entry expires. Bounded: past `max` entries it starts over.
 */
export class StatusCache {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #rendered = new Map<string, { at: number; value: Promise<Rendered> }>();
  readonly #domains = new Map<string, { at: number; slug: string | undefined }>();

  constructor(options: { ttlMs: number; max?: number }) {
    this.#ttlMs = options.ttlMs;
    this.#max = options.max ?? 10_000;
  }

  /**
   * The cached form `key` of page `slug`, or what `render` makes (then kept). Concurrent requests
   * for a page being rendered share that render; a failed one is not kept.
   */
  rendered(slug: string, key: string, render: () => Promise<Rendered>, now = Date.now()): Promise<Rendered> {
    const id = `${slug}\u0000${key}`;
    const held = this.#rendered.get(id);
    if (held && now - held.at < this.#ttlMs) return held.value;
    if (this.#rendered.size >= this.#max) this.#rendered.clear();
    const value = render();
    if (this.#ttlMs > 0) {
      this.#rendered.set(id, { at: now, value });
      value.catch(() => this.#rendered.delete(id));
    }
    return value;
  }

  /** The slug served on `domain`, looked up with `find` at most once per ttl. */
  async domain(
    domain: string,
    find: () => Promise<string | undefined>,
    now = Date.now(),
  ): Promise<string | undefined> {
    const held = this.#domains.get(domain);
    if (held && now - held.at < this.#ttlMs) return held.slug;
    const slug = await find();
    if (this.#domains.size >= this.#max) this.#domains.clear();
    if (this.#ttlMs > 0) this.#domains.set(domain, { at: now, slug });
    return slug;
  }

  /** Forgets a page's forms and every domain mapping (a write may have moved one). */
  forget(slug: string): void {
    for (const id of this.#rendered.keys()) if (id.startsWith(`${slug}\u0000`)) this.#rendered.delete(id);
    this.#domains.clear();
  }
}
