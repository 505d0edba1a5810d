/**
 * Reusing the neural part of an existing model directory (`train --transformer-from`): its files
 * and config, a transformer exported before tree attention re-exported from its checkpoint.
 */
import path from 'node:path';
import os from 'node:os';
import { promises as fs } from 'node:fs';
import type { ItemIndex } from '../../quantizer/index.js';
import { openRequired, resolveArtifact } from '../../quantizer/core/index.js';
import { InputError, ModelError } from '../errors.js';
import { kindName, transformerDims } from '../serving/model/kinds.js';
import { LEGACY_TRANSITION_FILE, TRANSITION_FILE } from '../serving/model/transition-file.js';
import { MODEL_FORMAT, modelConfigOf, type ModelConfig } from '../serving/model/model-dir.js';
import { OnnxStepModel } from '../serving/model/onnx-runner.js';
import type { ModelFiles } from '../serving/model/text-model.js';
import { runTrainer } from './python.js';

/**
 * The neural part's files and config of an existing model directory on `index`: a transformer, a
 * fused model's transformer, or a SASRec model (architecture `sasrec`: a fused model over it
 * records `params.neural: 'sasrec'`).
 */
export async function reuseTransformer(dir: string, index: ItemIndex): Promise<{ config: ModelConfig; files: Record<string, string | Uint8Array> }> {
  const art = await openRequired(await resolveArtifact(dir), MODEL_FORMAT, { verifyAll: true });
  const config = await modelConfigOf(art, dir);
  if (config.architecture !== 'decoder' && config.architecture !== 'fused' && config.architecture !== 'sasrec') throw new InputError(`${dir} holds a ${kindName(config)} model, not a transformer or SASRec model`, { param: 'transformerFrom' });
  if (config.indexHash !== index.hash()) throw new ModelError(`${dir} was trained on index ${config.indexHash.slice(0, 12)}…, not this index (${index.hash().slice(0, 12)}…)`);
  const files: Record<string, string | Uint8Array> = {};
  for (const name of art.names) if (name !== 'config.json' && name !== TRANSITION_FILE && name !== LEGACY_TRANSITION_FILE) files[name] = await art.read(name);
  const params: Record<string, unknown> = { ...config.params };
  delete params.fusion; // a fused source: its transition part and weight are refitted
  delete params.transition;
  delete params.seen; // decided again for the new model
  const sasrec = config.architecture === 'sasrec' || params.neural === 'sasrec';
  delete params.neural;
  if (!sasrec && (await upgradeToTreeMask(files, config))) params.reexported = 'model.onnx re-exported from checkpoint.pt with the 3-D (tree attention) mask';
  return { config: { ...config, architecture: sasrec ? 'sasrec' : 'decoder', params: { ...params, transformerFrom: path.resolve(dir) } }, files };
}

/**
 * A transformer exported before tree attention (2-D attention mask) is re-exported from its
 * checkpoint with the current exporter — same weights, the 3-D mask that decodes all beams of a
 * request over one cache (models/onnx-tree.ts). Returns whether `files['model.onnx']` was replaced
 * (false: already 3-D, or no checkpoint.pt / trainer.json to export from).
 */
async function upgradeToTreeMask(files: Record<string, string | Uint8Array>, config: ModelConfig): Promise<boolean> {
  if (!(files['model.onnx'] instanceof Uint8Array) || files['checkpoint.pt'] === undefined || files['trainer.json'] === undefined) return false;
  const probe = await OnnxStepModel.load(files['model.onnx'], transformerDims(config.params, config.tokenLayout.vocabSize), { threads: 1 });
  const mask3d = probe.mask3d;
  await probe.close();
  if (mask3d) return false;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'semrec-reexport-'));
  try {
    for (const name of ['checkpoint.pt', 'trainer.json']) await fs.writeFile(path.join(work, name), files[name]);
    const out = path.join(work, 'model.onnx');
    await runTrainer(['export', '--config', path.join(work, 'trainer.json'), '--checkpoint', path.join(work, 'checkpoint.pt'), '--out', out], () => {});
    files['model.onnx'] = new Uint8Array(await fs.readFile(out));
    return true;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** A model directory's files in memory, as the loaders read them. */
export function filesOf(files: Record<string, string | Uint8Array>): ModelFiles {
  return {
    has: (name) => Object.hasOwn(files, name),
    read: async (name) => {
      const f = files[name];
      return typeof f === 'string' ? f : Buffer.from(f).toString('utf8');
    },
  };
}
