import { BeaconError } from '../errors/catalog.ts';
import { isoTime } from '../wire/time.ts';
import { Counter } from './counter.ts';
import { Hierarchy } from './hierarchy.ts';
import type { SpaceMove } from './model.ts';
import type { OccupancyWriter } from './store/repositories.ts';

/**
 * The counting that follows a change of a space's parent over [from, to): every event that crossed
 * the space's boundary then is counted again in the tree now stored (its ancestors changed), and the
 * transfers of the move are made again. Returns the spaces whose counts moved.
 */
async function recountMoved(
  tx: OccupancyWriter,
  tenant: string,
  move: Pick<SpaceMove, 'space' | 'at'>,
  to: number | null,
): Promise<Set<string>> {
  const counter = new Counter(tx, tenant);
  await counter.recountSpace(move.space, move.at, to);
  counter.redo(move);
  await counter.flush();
  return counter.touched;
}

/** The move of `space` after `at`, if any: where the interval a move governs ends. */
const nextMove = (moves: readonly SpaceMove[], space: string, at: number) =>
  moves.find((m) => m.space === space && m.at > at);

/**
 * Re-parents a space from `move.at` on, inside the caller's transaction: history before the move is
 * left exactly as it was, and from the move on the space's counts roll up into its new ancestors,
 * the people inside it at the move going with it. Refused when the space or parent does not exist,
 * when the space already moves at that instant, or when the tree would hold a cycle at any time.
 */
export async function moveSpace(tx: OccupancyWriter, tenant: string, move: SpaceMove): Promise<Set<string>> {
  const spaces = await tx.allSpaces(tenant);
  if (!spaces.some((s) => s.id === move.space))
    throw new BeaconError('SPACE_NOT_FOUND', `no space ${move.space}`);
  if (move.parent !== null && !spaces.some((s) => s.id === move.parent)) {
    throw new BeaconError('SPACE_NOT_FOUND', `no parent space ${move.parent}`);
  }
  if (move.parent === move.space)
    throw new BeaconError('VALIDATION_FAILED', 'a space cannot be its own parent');
  const moves = await tx.moves(tenant);
  if (moves.some((m) => m.space === move.space && m.at === move.at)) {
    throw new BeaconError('ALREADY_EXISTS', `space ${move.space} already moves at ${isoTime(move.at)}`);
  }
  const to = nextMove(moves, move.space, move.at)?.at ?? null;
  const cycle = new Hierarchy(spaces, [...moves, move]).cycleIf(move.space, move.parent, move.at, to);
  if (cycle) throw new BeaconError('SPACE_CYCLE', `cannot move ${move.space} under ${move.parent}: ${cycle}`);
  await tx.insertMove(tenant, move);
  return recountMoved(tx, tenant, move, to);
}

/**
 * Takes back the move of `space` at `at`: the parent before it holds on until the space's next
 * move, and everything after it is counted as if it had never been made. Refused when that would
 * make a cycle (another move since relied on it).
 */
export async function undoMove(
  tx: OccupancyWriter,
  tenant: string,
  space: string,
  at: number,
): Promise<{ move: SpaceMove; touched: Set<string> }> {
  const moves = await tx.moves(tenant);
  const move = moves.find((m) => m.space === space && m.at === at);
  if (!move) throw new BeaconError('MOVE_NOT_FOUND', `space ${space} has no move at ${isoTime(at)}`);
  const rest = moves.filter((m) => m !== move);
  const tree = new Hierarchy(await tx.allSpaces(tenant), rest);
  const to = nextMove(rest, space, at)?.at ?? null;
  const cycle = tree.cycleIf(space, tree.parentAt(space, at), at, to);
  if (cycle) throw new BeaconError('SPACE_CYCLE', `cannot take back the move of ${space}: ${cycle}`);
  await tx.deleteMove(tenant, space, at);
  return { move, touched: await recountMoved(tx, tenant, move, to) };
}
