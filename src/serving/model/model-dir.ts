/**
 * Model directories (format `semrec-model`, version 1). `config.json` holds the architecture, the
 * token layout and the content hash of the index the model was trained on; the architecture's
 * own files sit beside it (`transition.bin` for the transition model — `bigram.json` in directories written before it; `model.onnx` +
 * `tokenizer.json` for the transformer). Written atomically; loading checks the hash against the
 * index it is served with and refuses a mismatch.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { resolveArtifact, writeArtifact, openRequired, openUnverified, zodIssues, type Artifact, type FileSource } from '../../../quantizer/core/index.js';
import { NUM_SPECIAL, TokenLayout, type TokenLayoutSpec } from '../../../decoding/index.js';
import { ModelError, NotFoundError, SemrecError } from '../../errors.js';
import { sasrecShape } from './sasrec.js';

/** Format name in config.json. */
export const MODEL_FORMAT = 'semrec-model';
/** Current format version. */
export const MODEL_FORMAT_VERSION = 1;

/** config.json of a model directory. */
export interface ModelConfig {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  /** `bigram` (transition model) or `decoder` (transformer, ONNX). */
  architecture: string;
  /** {@link ItemIndex.hash} of the index the model was trained on. */
  indexHash: string;
  tokenLayout: TokenLayoutSpec;
  /** History items in the prompt (most recent kept). */
  maxHistory: number;
  /**
   * Dataset directory used for training (for titles and evaluation defaults). Stored relative to
   * the model directory (so a model copied together with its index and data keeps working);
   * {@link readModelConfig} returns it resolved.
   */
  dataDir?: string;
  /**
   * Index directory used for training: the default index when serving. Stored relative to the
   * model directory, resolved on read. Only a default: the index is bound by `indexHash`.
   */
  indexDir?: string;
  /** Architecture-specific settings and training summary. */
  params: Record<string, unknown>;
}

/**
 * Content hash of a model directory (hex sha256 over every regular file's name and bytes, in name
 * order): what a server reports as the loaded model's identity.
 */
export async function modelDirHash(src: string | FileSource): Promise<string> {
  const files = typeof src === 'string' ? await openUnverified(src) : src;
  const h = createHash('sha256');
  const entries = [...files.names].sort();
  for (const name of entries) {
    const st = await fs.lstat(path.join(files.dir, name)).catch(() => undefined);
    if (!st || !(st.isFile() || st.isSymbolicLink())) continue; // plain files only (subdirectories are not the model)
    h.update(`${name}\0`);
    h.update(await files.read(name));
  }
  return h.digest('hex');
}

/** `p` relative to directory `dir` (for recording in a relocatable artifact). */
export function relativeTo(dir: string, p: string | undefined): string | undefined {
  return p === undefined ? undefined : path.relative(path.resolve(dir), path.resolve(p)) || '.';
}

/** A path recorded by {@link relativeTo} (or an absolute one, as older versions wrote) resolved against `dir`. */
export function resolveFrom(dir: string, p: string | undefined): string | undefined {
  return p === undefined ? undefined : path.resolve(dir, p);
}

/** Write a model directory atomically: config.json (with relative data/index paths) plus `files`. */
export async function writeModelDir(dir: string, config: ModelConfig, files: Record<string, string | Uint8Array>, opts: { force?: boolean; inputs?: readonly string[] } = {}): Promise<void> {
  const stored: ModelConfig = { ...config, dataDir: relativeTo(dir, config.dataDir), indexDir: relativeTo(dir, config.indexDir) };
  await writeArtifact(
    dir,
    async (tmp) => {
      for (const [name, data] of Object.entries(files)) await fs.writeFile(path.join(tmp, name), data);
      await fs.writeFile(path.join(tmp, 'config.json'), JSON.stringify(stored, null, 2) + '\n');
    },
    async (tmp) => {
      await readModelConfig(tmp);
    },
    { kind: MODEL_FORMAT, force: opts.force, inputs: opts.inputs },
  );
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest');
const posInt = (max: number) => z.number().int().min(1).max(max);
const ConfigSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  formatVersion: z.literal(MODEL_FORMAT_VERSION),
  architecture: z.string().min(1).max(64),
  indexHash: hex64,
  tokenLayout: z.object({
    sizes: z.array(posInt(65536)).min(1).max(64),
    offsets: z.array(z.number().int().min(0)),
    vocabSize: posInt(2 ** 24),
    specials: z.record(z.string(), z.number()),
  }),
  maxHistory: posInt(100_000),
  dataDir: z.string().optional(),
  indexDir: z.string().optional(),
  params: z.record(z.string(), z.unknown()),
});
const TransformerParams = z
  .object({ layers: posInt(1024), heads: posInt(1024), headDim: posInt(65536), dModel: posInt(1 << 20), vocabSize: posInt(2 ** 24), block: z.enum(['gpt2', 'llm']).optional(), kvHeads: posInt(1024).optional() })
  .passthrough()
  // the llm block states its head width (Qwen3-0.6B: 16 heads of 128 over a width of 1024)
  .refine((p) => p.block === 'llm' || p.heads * p.headDim === p.dModel, { message: 'heads × headDim must equal dModel' })
  .refine((p) => p.kvHeads === undefined || (p.block === 'llm' && p.heads % p.kvHeads === 0), { message: 'kvHeads is for the llm block and must divide heads' });
/** `params.base` / `params.prompt` of a transformer fine-tuned from a text checkpoint (serving/model/text-model.ts). */
const TextModelParams = z
  .object({
    block: z.literal('llm'),
    base: z.object({ idStart: z.number().int().min(0), idCount: posInt(2 ** 24), bosId: z.number().int().min(0).optional(), lora: z.number().int().min(0) }).passthrough(),
    prompt: z.object({ template: z.string(), item: z.string(), separator: z.string(), titleWords: posInt(10_000) }),
    maxPromptTokens: posInt(1 << 20),
    maxPositions: posInt(1 << 24),
    vocabSize: posInt(2 ** 24),
  })
  .passthrough()
  .refine((p) => p.base.idStart + p.base.idCount <= p.vocabSize, { message: 'the ID tokens [idStart, idStart + idCount) must lie inside vocabSize' });
const FusedParams = z.object({ fusion: z.object({ weight: z.number().min(0).max(1) }).passthrough() }).passthrough();

/** Check a parsed config.json (schema, ranges, and values against each other). */
function checkModelConfig(raw: unknown, file: string): ModelConfig {
  const r = raw as Partial<ModelConfig> | null;
  if (!r || typeof r !== 'object' || r.format !== MODEL_FORMAT) throw new ModelError(`${file}: not a ${MODEL_FORMAT} directory`);
  if (r.formatVersion !== MODEL_FORMAT_VERSION) throw new ModelError(`${file}: model format version ${String(r.formatVersion)} is not supported`);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ModelError(`${file}: invalid config: ${zodIssues(parsed.error)}`);
  const c = parsed.data as ModelConfig;
  let layout: TokenLayout;
  try {
    layout = TokenLayout.fromSpec(c.tokenLayout);
  } catch (err) {
    throw new ModelError(`${file}: tokenLayout: ${(err as Error).message}`);
  }
  // a fused model's neural part is a transformer, or SASRec (params.neural, checked with SASRec's own params)
  const sasrec = c.architecture === 'sasrec' || (c.architecture === 'fused' && c.params.neural === 'sasrec');
  if (c.architecture === 'fused' && c.params.neural !== undefined && !sasrec) throw new ModelError(`${file}: params.neural must be "sasrec" or absent, got ${JSON.stringify(c.params.neural)}`);
  if (sasrec) {
    sasrecShape(c.params, file);
    return checkRest(c, file);
  }
  if (c.architecture === 'decoder' || c.architecture === 'fused') {
    const p = TransformerParams.safeParse(c.params);
    if (!p.success) throw new ModelError(`${file}: invalid transformer params: ${zodIssues(p.error)}`);
    if ('base' in c.params) {
      const t = TextModelParams.safeParse(c.params);
      if (!t.success) throw new ModelError(`${file}: invalid fine-tuned model params: ${zodIssues(t.error)}`);
      if (t.data.base.idCount !== layout.vocabSize - NUM_SPECIAL) throw new ModelError(`${file}: params.base.idCount ${t.data.base.idCount} ≠ the token layout's ${layout.vocabSize - NUM_SPECIAL} ID tokens`);
      if (t.data.maxPromptTokens + layout.levels > t.data.maxPositions) throw new ModelError(`${file}: maxPromptTokens ${t.data.maxPromptTokens} and one item need more than params.maxPositions ${t.data.maxPositions}`);
      return checkRest(c, file);
    }
    if (p.data.vocabSize !== layout.vocabSize) throw new ModelError(`${file}: params.vocabSize ${p.data.vocabSize} ≠ the token layout's ${layout.vocabSize}`);
  }
  if (c.architecture === 'decoder' || c.architecture === 'fused') {
    // a prompt (BOS + maxHistory tuples) and the generated tuple must fit the model's learned positions
    const maxPositions = (c.params as { maxPositions?: unknown }).maxPositions;
    const need = 1 + (c.maxHistory + 1) * layout.levels;
    if (maxPositions !== undefined && (typeof maxPositions !== 'number' || !Number.isInteger(maxPositions) || maxPositions < need)) {
      throw new ModelError(`${file}: maxHistory ${c.maxHistory} needs ${need} positions but params.maxPositions is ${JSON.stringify(maxPositions)}`);
    }
  }
  return checkRest(c, file);
}

/** The checks of every kind: the seen-item policy, a fused model's weight. */
function checkRest(c: ModelConfig, file: string): ModelConfig {
  const seen = (c.params as { seen?: unknown }).seen;
  if (seen !== undefined && (typeof seen !== 'object' || seen === null || ('exclude' in seen && typeof (seen as { exclude: unknown }).exclude !== 'boolean'))) {
    throw new ModelError(`${file}: params.seen.exclude must be true or false, got ${JSON.stringify((seen as { exclude?: unknown } | null)?.exclude ?? seen)}`);
  }
  if (c.architecture === 'fused') {
    const p = FusedParams.safeParse(c.params);
    if (!p.success) throw new ModelError(`${file}: invalid fused-model params: ${zodIssues(p.error)}`);
  }
  return c;
}

/**
 * Read and validate config.json of the model directory `dir` (its current generation; MANIFEST.json
 * checked). Recorded relative paths are resolved against `base` (default `dir`: pass the logical
 * model directory when `dir` is an already-resolved generation).
 */
export async function readModelConfig(dir: string, base = dir): Promise<ModelConfig> {
  if (base === dir) dir = await resolveArtifact(dir);
  const art = await openRequired(dir, MODEL_FORMAT).catch((err: unknown) => {
    throw new ModelError(`${dir}: ${(err as Error).message.replace(`${dir}/`, '')}`);
  });
  return modelConfigOf(art, base);
}

/** config.json of an already opened (verified) model directory; relative paths resolved against `base`. */
export async function modelConfigOf(art: Artifact, base: string): Promise<ModelConfig> {
  const dir = art.dir;
  const file = path.join(dir, 'config.json');
  if (!art.has('config.json')) throw new NotFoundError(file, 'model directory (config.json)');
  let raw: unknown;
  try {
    raw = JSON.parse(await art.text('config.json'));
  } catch (err) {
    if (err instanceof SemrecError) throw err;
    throw new ModelError(`${file}: not valid JSON`);
  }
  const c = checkModelConfig(raw, file);
  return { ...c, dataDir: resolveFrom(base, c.dataDir), indexDir: resolveFrom(base, c.indexDir) };
}
