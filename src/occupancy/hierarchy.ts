import type { Space, SpaceMove } from './model.ts';

/** Before any data: the time a space's first parent holds from. */
const ALWAYS = -8.64e15;

/**
 * The space tree over time. A space has the parent it was created with until its first move, then
 * each move's parent from the move's time on: the tree at any instant is the one the counts of that
 * instant are made in, so moving a space from a date leaves every figure before that date as it was.
 */
export class Hierarchy {
  readonly #spaces: ReadonlyMap<string, Space>;
  /** Each space's parents in time order, as [from, parent]; the first from is ALWAYS. */
  readonly #parents = new Map<string, [number, string | null][]>();
  /** Every move, in time order (then by space). */
  readonly moves: readonly SpaceMove[];

  constructor(spaces: Iterable<Space>, moves: Iterable<SpaceMove>) {
    this.#spaces = new Map([...spaces].map((s) => [s.id, s]));
    for (const s of this.#spaces.values()) this.#parents.set(s.id, [[ALWAYS, s.parent]]);
    this.moves = [...moves].sort(
      (a, b) => a.at - b.at || (a.space < b.space ? -1 : a.space > b.space ? 1 : 0),
    );
    for (const m of this.moves) this.#parents.get(m.space)?.push([m.at, m.parent]);
  }

  has(space: string): boolean {
    return this.#spaces.has(space);
  }

  space(id: string): Space | undefined {
    return this.#spaces.get(id);
  }

  get spaces(): Iterable<Space> {
    return this.#spaces.values();
  }

  /** The parent of `space` at instant `t`. */
  parentAt(space: string, t: number): string | null {
    const parents = this.#parents.get(space);
    if (!parents) return null;
    let parent: string | null = null;
    for (const [from, p] of parents) {
      if (from > t) break;
      parent = p;
    }
    return parent;
  }

  /**
   * How many moves have taken effect at `t` (those at or before it). The tree is the same at any two
   * instants with the same figure, so what is worked out from the tree can be kept by it.
   */
  epochAt(t: number): number {
    let [lo, hi] = [0, this.moves.length];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.moves[mid]!.at <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The parents of `space` in time order, each with the interval it held: [from, to). */
  parentsOf(space: string): { parent: string | null; from: number | null; to: number | null }[] {
    const parents = this.#parents.get(space) ?? [];
    return parents.map(([from, parent], i) => ({
      parent,
      from: from === ALWAYS ? null : from,
      to: parents[i + 1]?.[0] ?? null,
    }));
  }

  /** The spaces a person inside `space` is in at `t`: itself and every ancestor (the roll-up). */
  enclosing(space: string | null, t: number): string[] {
    const chain: string[] = [];
    for (let id = space; id !== null && !chain.includes(id); id = this.parentAt(id, t)) chain.push(id);
    return chain;
  }

  /**
   * The count changes of one crossing at `t` from space `from` to space `to` (null is the outside):
   * +1 for every space entered, −1 for every space left. A space that encloses both sides does not
   * change.
   */
  crossing(from: string | null, to: string | null, t: number): { space: string; delta: 1 | -1 }[] {
    const left = this.enclosing(from, t);
    const entered = this.enclosing(to, t);
    return [
      ...entered.filter((s) => !left.includes(s)).map((space) => ({ space, delta: 1 as const })),
      ...left.filter((s) => !entered.includes(s)).map((space) => ({ space, delta: -1 as const })),
    ];
  }

  /** True when `ancestor` encloses `space` (or is it) at `t`. */
  within(space: string, ancestor: string, t: number): boolean {
    return this.enclosing(space, t).includes(ancestor);
  }

  /** The spaces inside `space` at `t`, itself included. */
  subtree(space: string, t: number): string[] {
    return [...this.#spaces.keys()].filter((s) => this.within(s, space, t));
  }

  /**
   * Why `space` cannot have `parent` over [from, to): a cycle it would make at one of the times the
   * tree changes in that interval; undefined when it can. The tree is taken as it is with that move.
   */
  cycleIf(space: string, parent: string | null, from: number, to: number | null): string | undefined {
    if (parent === null) return undefined;
    const times = [from, ...this.moves.map((m) => m.at).filter((t) => t > from && (to === null || t < to))];
    for (const t of times) {
      const chain = this.enclosing(parent, t);
      if (chain.includes(space)) {
        return `${parent} is inside ${space} at ${new Date(t).toISOString()}`;
      }
    }
    return undefined;
  }
}
