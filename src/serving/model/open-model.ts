/**
 * Opening a model directory through its kind of directory, so that `Recommender` has no branch of
 * its own: semrec's model directories (config.json of format semrec-model with a manifest; the
 * model kinds of kinds.ts) and Hugging Face-layout directories exported elsewhere (`semrec.json`;
 * hf-model.ts). Each kind detects its directories, says which index its model was trained on, and
 * loads it for a serving index as a step model of the canonical token layout prompted with
 * semrec's ID prompt — a Hugging Face-layout model through a {@link TextPromptStepModel} that
 * writes its text prompt.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TokenLayout, type PrefixTrie, type StepModel } from '../../../decoding/index.js';
import { openArtifact, openRequired, openUnverified, type FileSource } from '../../../quantizer/core/index.js';
import type { ItemIndex } from '../../../quantizer/index.js';
import { InputError, ModelError, SemrecError } from '../../errors.js';
import { HF_SERVING_FILE, loadHfModel, readHfServingConfig } from './hf-model.js';
import { loadModelKind, ONNX_MAX_BATCH, type LoadedModel, type ModelPart } from './kinds.js';
import { MODEL_FORMAT, modelConfigOf, modelDirHash, type ModelConfig } from './model-dir.js';
import { promptTuples, TextPromptStepModel } from './text-model.js';

/** How a model is loaded for serving. */
export interface ModelLoadOptions {
  threads?: number;
  part?: ModelPart;
  fusionWeight?: number;
}

/** A loaded model with its config, token layout and default seen-item policy. */
export interface ServedModel {
  config: ModelConfig;
  layout: TokenLayout;
  loaded: LoadedModel;
  /** The model's own default for excluding history items. */
  excludeSeen: boolean;
}

/** A model directory opened (its files verified where it has a manifest) but not yet loaded. */
export interface OpenedModel {
  /** Content hash of the directory (every file). */
  modelHash: string;
  /** The index the model was trained on, and where it was (relative paths resolved from the model directory). */
  indexHash: string;
  indexDir?: string;
  /** Load the model for a serving index (the recorded index or a descendant) and its candidate trie. */
  load(index: ItemIndex, trie: PrefixTrie, opts: ModelLoadOptions): Promise<ServedModel>;
}

/** A kind of model directory. */
interface DirKind {
  detect(resolved: string): Promise<boolean>;
  open(resolved: string, modelDir: string): Promise<OpenedModel>;
}

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

/** semrec's own directories: config.json + MANIFEST.json, every file verified before loading. */
const semrecDir: DirKind = {
  detect: async () => true,
  async open(resolved, modelDir) {
    const art = await openRequired(resolved, MODEL_FORMAT, { verifyAll: true }).catch((err: unknown) => {
      throw err instanceof SemrecError && err.code === 'E_FORMAT' ? new ModelError(err.message) : err;
    });
    const config = await modelConfigOf(art, modelDir);
    return {
      modelHash: art.checksum,
      indexHash: config.indexHash,
      indexDir: config.indexDir,
      async load(index, trie, opts) {
        const layout = TokenLayout.fromSpec(config.tokenLayout);
        if (layout.sizes.join() !== index.codebookSizes.join()) throw new ModelError('model token layout does not match the index codebook sizes');
        const loaded = await loadModelKind({ dir: resolved, art, config, trie, layout, rows: index.size, rowOfCodes: (c) => index.rowOfCodes(c) ?? -1, index, threads: opts.threads, part: opts.part, fusionWeight: opts.fusionWeight });
        return { config, layout, loaded, excludeSeen: (config.params as { seen?: { exclude?: unknown } }).seen?.exclude === true };
      },
    };
  },
};

/**
 * Hugging Face-layout directories (`semrec.json`, hf-model.ts); one exported elsewhere may have no
 * manifest and is then read unverified (each file opened once, regular files only).
 */
const hfDir: DirKind = {
  detect: (resolved) => exists(path.join(resolved, HF_SERVING_FILE)),
  async open(resolved, modelDir) {
    const art = await openArtifact(resolved, { kind: 'hf-model', optional: true, verifyAll: true });
    const files: FileSource = art ?? (await openUnverified(resolved));
    const serving = await readHfServingConfig(files, modelDir);
    return {
      modelHash: art?.checksum ?? (await modelDirHash(files)),
      indexHash: serving.indexHash,
      indexDir: serving.indexDir,
      async load(index, _trie, opts) {
        if (opts.part || opts.fusionWeight !== undefined) throw new InputError('Hugging Face-layout models have no parts or fusion weight');
        const m = await loadHfModel(files, index.codebookSizes, { threads: opts.threads, serving });
        const layout = TokenLayout.fromSpec(m.config.tokenLayout);
        const model = new TextPromptStepModel(m.model, (idPrompt) => m.prompt(promptTuples(idPrompt, layout))) as StepModel<unknown>;
        return { config: m.config, layout, loaded: { model, name: 'hf-causal-lm', maxBatch: ONNX_MAX_BATCH, close: () => m.close() }, excludeSeen: serving.excludeSeen === true };
      },
    };
  },
};

/** The kinds of model directory, the first that detects a directory opens it. */
const DIR_KINDS: readonly DirKind[] = [hfDir, semrecDir];

/** Open the model directory generation `resolved` (named `modelDir` by the caller) through its kind. */
export async function openModel(resolved: string, modelDir: string): Promise<OpenedModel> {
  for (const kind of DIR_KINDS) if (await kind.detect(resolved)) return kind.open(resolved, modelDir);
  throw new ModelError(`${modelDir} is not a model directory`);
}
