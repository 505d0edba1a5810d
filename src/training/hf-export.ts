/**
 * Export a semrec transformer as a Hugging Face-layout model directory (GPT-2 config and tensor
 * names, a text vocabulary with the semantic-ID tokens as added tokens, Optimum ONNX inputs and
 * outputs, `semrec.json` with the prompt template) — the layout {@link loadHfModel} serves, and the
 * starting point a fine-tuning recipe hands back. Written atomically.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { openRequired, resolveArtifact, writeArtifact, Rng } from '../../quantizer/core/index.js';
import { NUM_SPECIAL, TokenLayout } from '../../decoding/index.js';
import { InputError, ModelError, SemrecError } from '../errors.js';
import { HF_SERVING_FILE, HF_SERVING_FORMAT, readHfServingConfig, type HfServingConfig } from '../serving/model/hf-model.js';
import { MODEL_FORMAT, modelConfigOf, relativeTo } from '../serving/model/model-dir.js';
import { runTrainer } from './python.js';
import { addedTokensJson, idToken } from '../serving/model/tokenizer.js';
import { makeScratch } from '../util/scratch.js';

/** Options of {@link exportHfModel}. */
export interface HfExportOptions {
  /** Prompt template around the history's ID tokens (default `<|endoftext|>{history}`). */
  promptTemplate?: string;
  /** Text between items (default ''). */
  itemSeparator?: string;
  /** Extra words of the text vocabulary (the template's words are always included). */
  words?: readonly string[];
  /** Shuffle the ID tokens' positions in the vocabulary with this seed (default: level order). */
  shuffleSeed?: number;
  /** Replace whatever `outDir` holds (default: refuse anything but an earlier export). */
  force?: boolean;
}

/** Text-vocabulary specials standing for the native PAD, BOS, EOS and SEP tokens. */
const HF_SPECIALS = ['<|pad|>', '<|endoftext|>', '<|eos|>', '<|sep|>'];

/** Vocabulary of the exported model: text tokens first, then the ID tokens. */
function hfVocabulary(layout: TokenLayout, opts: HfExportOptions): { vocab: string[]; nativeToHf: number[] } {
  const template = opts.promptTemplate ?? '<|endoftext|>{history}';
  const words = [...HF_SPECIALS];
  const seen = new Set(words);
  const parts = template.split('{history}').join(' ');
  for (const w of [...HF_SPECIALS.reduce((t, s) => t.split(s).join(' '), parts).split(/\s+/), ...(opts.words ?? []), ...(opts.itemSeparator?.split(/\s+/) ?? [])]) {
    if (w && !seen.has(w)) {
      if (/^<[a-z]_\d+>$/.test(w)) throw new InputError(`template word ${w} looks like a semantic-ID token`);
      seen.add(w);
      words.push(w);
    }
  }
  const ids: number[] = Array.from({ length: layout.vocabSize - NUM_SPECIAL }, (_, i) => i + NUM_SPECIAL);
  if (opts.shuffleSeed !== undefined) {
    const rng = new Rng(opts.shuffleSeed);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
  }
  const vocab = [...words];
  const nativeToHf = new Array<number>(layout.vocabSize);
  for (let s = 0; s < NUM_SPECIAL; s++) nativeToHf[s] = s;
  const names: string[] = [];
  layout.sizes.forEach((k, l) => {
    for (let c = 0; c < k; c++) names[layout.token(l, c)] = idToken(l, c);
  });
  for (const native of ids) {
    nativeToHf[native] = vocab.length;
    vocab.push(names[native]);
  }
  return { vocab, nativeToHf };
}

/** Export the transformer in `modelDir` to `outDir` in the Hugging Face layout. */
export async function exportHfModel(logicalDir: string, outDir: string, opts: HfExportOptions = {}): Promise<HfServingConfig> {
  const modelDir = await resolveArtifact(logicalDir); // one generation for every file read below
  // every file verified and read once; the trainer gets copies of the verified bytes, not the paths
  const art = await openRequired(modelDir, MODEL_FORMAT, { verifyAll: true }).catch((err: unknown) => {
    throw err instanceof SemrecError && err.code === 'E_FORMAT' ? new ModelError(err.message) : err;
  });
  const cfg = await modelConfigOf(art, logicalDir);
  // a fused model directory holds the transformer too; the export is the transformer alone
  if (cfg.architecture !== 'decoder' && cfg.architecture !== 'fused') throw new ModelError(`${modelDir}: only transformer and fused models can be exported (their transformer), this one is ${JSON.stringify(cfg.architecture)}`);
  // the llm block is exported as itself (Llama / Qwen names); a model fine-tuned from a text checkpoint already has its tokenizer
  if ((cfg.params as { base?: unknown }).base !== undefined) throw new ModelError(`${modelDir}: a model fine-tuned from a text checkpoint (train --base) keeps its checkpoint's tokenizer; export-hf rebuilds semrec's ID vocabulary and cannot export it`);
  const llm = (cfg.params as { block?: string }).block === 'llm';
  const layout = TokenLayout.fromSpec(cfg.tokenLayout);
  const promptTemplate = opts.promptTemplate ?? '<|endoftext|>{history}';
  if (!promptTemplate.includes('{history}')) throw new InputError('the prompt template must contain {history}');
  const { vocab, nativeToHf } = hfVocabulary(layout, opts);
  const textTokens = vocab.length - (layout.vocabSize - NUM_SPECIAL);
  const p = cfg.params as { layers: number; heads: number; dModel: number; dFF: number; maxPositions: number };
  const work = await makeScratch('semrec-hf');
  try {
    const trainerCfg = path.join(work, 'trainer.json');
    await fs.writeFile(trainerCfg, await art.read('trainer.json'));
    const checkpoint = path.join(work, 'checkpoint.pt');
    await fs.writeFile(checkpoint, await art.read('checkpoint.pt'));
    const mapFile = path.join(work, 'map.json');
    await fs.writeFile(mapFile, JSON.stringify({ vocab_size: vocab.length, native_to_hf: nativeToHf, seed: opts.shuffleSeed ?? 0 }));
    const onnx = path.join(work, 'model.onnx');
    await runTrainer(['export-hf', '--config', trainerCfg, '--checkpoint', checkpoint, '--map', mapFile, '--out', onnx], () => undefined);
    const special = { pad_token_id: 0, bos_token_id: 1, eos_token_id: 2, use_cache: true };
    // the llm block: its own Hugging Face config (Qwen3 family) with the rebuilt vocabulary
    const hfConfig = llm
      ? { ...(cfg.params.hf as Record<string, unknown>), architectures: ['Qwen3ForCausalLM'], vocab_size: vocab.length, ...special }
      : { architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: vocab.length, n_layer: p.layers, n_head: p.heads, n_embd: p.dModel, n_inner: p.dFF, n_positions: p.maxPositions, activation_function: 'gelu', layer_norm_epsilon: 1e-5, tie_word_embeddings: true, ...special };
    const serving: HfServingConfig = {
      format: HF_SERVING_FORMAT,
      formatVersion: 1,
      indexHash: cfg.indexHash,
      promptTemplate,
      itemSeparator: opts.itemSeparator ?? '',
      maxHistory: cfg.maxHistory,
      indexDir: relativeTo(outDir, cfg.indexDir),
      dataDir: relativeTo(outDir, cfg.dataDir),
      ...((cfg.params as { seen?: { exclude?: boolean } }).seen?.exclude === true ? { excludeSeen: true } : {}),
    };
    const tokCfg = { bos_token: '<|endoftext|>', eos_token: '<|eos|>', pad_token: '<|pad|>', sep_token: '<|sep|>', model_max_length: p.maxPositions, tokenizer_class: 'PreTrainedTokenizerFast' };
    await writeArtifact(
      outDir,
      async (tmp) => {
        await fs.copyFile(onnx, path.join(tmp, 'model.onnx'));
        await fs.writeFile(path.join(tmp, 'config.json'), JSON.stringify(hfConfig, null, 2) + '\n');
        await fs.writeFile(path.join(tmp, 'tokenizer.json'), addedTokensJson(vocab, { specials: HF_SPECIALS.length, unk: '<|pad|>', plainFrom: textTokens }));
        await fs.writeFile(path.join(tmp, 'tokenizer_config.json'), JSON.stringify(tokCfg, null, 2) + '\n');
        await fs.writeFile(path.join(tmp, HF_SERVING_FILE), JSON.stringify(serving, null, 2) + '\n');
      },
      async (tmp) => {
        await readHfServingConfig(tmp);
      },
      { kind: 'hf-model', force: opts.force, inputs: [logicalDir] },
    );
    return serving;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
