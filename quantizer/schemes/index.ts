/**
 * The scheme registry: factory names → {@link IndexingScheme}. The built-in schemes are
 * registered here; `registerScheme` adds another (one file implementing the interface, one call).
 */
import { QuantizerInputError } from '../errors.js';
import { collabScheme } from './collab.js';
import { randomScheme } from './random.js';
import { rqvaeScheme } from './rqvae.js';
import type { IndexingScheme } from './scheme.js';
import { hybridScheme, rqkmeansScheme } from './semantic.js';
import { sequentialScheme } from './sequential.js';

export type { AssignContext, BuildContext, BuildInput, BuiltCodes, CodebookTrainer, IndexingScheme, IndexView, SchemeOptions, TrainedCodebooks, TrainRequest } from './scheme.js';
export { firstAppearanceOrder, toDigits } from './sequential.js';

const registry = new Map<string, IndexingScheme>();
const aliases = new Map<string, string>();

/** Add a scheme under its name (and aliases). Names are lower-case letters; a taken name is refused. */
export function registerScheme(scheme: IndexingScheme): void {
  for (const name of [scheme.name, ...(scheme.aliases ?? [])]) {
    if (!/^[a-z][a-z0-9]*$/.test(name)) throw new QuantizerInputError(`scheme name ${JSON.stringify(name)} must be lower-case letters and digits`);
    if (registry.has(name) || aliases.has(name)) throw new QuantizerInputError(`scheme ${JSON.stringify(name)} is already registered`);
  }
  registry.set(scheme.name, scheme);
  for (const a of scheme.aliases ?? []) aliases.set(a, scheme.name);
}

/** The scheme registered under `name` or one of its aliases. */
export function getScheme(name: string): IndexingScheme | undefined {
  return registry.get(aliases.get(name) ?? name);
}

/** Registered scheme names (without aliases), in registration order. */
export function schemeNames(): string[] {
  return [...registry.keys()];
}

for (const s of [rqkmeansScheme, randomScheme, sequentialScheme, collabScheme, hybridScheme, rqvaeScheme]) registerScheme(s);
