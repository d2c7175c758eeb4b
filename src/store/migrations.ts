/**
 * Schema versions are shared by every domain of a store (today's databases carry one version number
 * each): a domain's wing contributes parts, and the parts of one version are one step, applied
 * together in the order given. The engine puts its own part first, then the wings' in `roles/` order.
 */
export interface MigrationPart {
  readonly version: number;
  /** The version's name; every part of a version carries the same one. */
  readonly name: string;
}

/** Parts grouped into versions, oldest first, keeping the given order within a version. */
export function versionsOf<M extends MigrationPart>(
  parts: readonly M[],
): { version: number; name: string; parts: M[] }[] {
  const versions = new Map<number, { version: number; name: string; parts: M[] }>();
  for (const part of parts) {
    const version = versions.get(part.version);
    if (!version) versions.set(part.version, { version: part.version, name: part.name, parts: [part] });
    else if (version.name !== part.name) {
      throw new Error(`migration ${part.version} is named both ${version.name} and ${part.name}`);
    } else version.parts.push(part);
  }
  return [...versions.values()].sort((a, b) => a.version - b.version);
}
