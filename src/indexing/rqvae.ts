/**
 * Training RQ-VAE codebooks with the PyTorch trainer (`python3 -m trainer rqvae`): item
 * embeddings in (a temp float32 file), the MLP encoder's weights, the codebooks and a report out.
 * See trainer/rqvae.py for the model and docs/quantizer.md for the scheme.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mlpWeightCount } from './embed/latent.js';
import { runTrainer, TrainerError } from '../training/python.js';

/** Options of {@link trainRqvae}. */
export interface RqvaeOptions {
  /** Latent width (default 32). */
  latentDim?: number;
  /** Hidden widths of the encoder (mirrored by the decoder; default [256, 128]). */
  hidden?: number[];
  /** Epochs (default 300). */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** Commitment weight β (default 0.25). */
  beta?: number;
  /** Re-initialise unused codes every N epochs (default 10; 0 = never). */
  reinitEvery?: number;
  /** cpu | cuda | cuda:N (default cpu). */
  device?: string;
  seed?: number;
  onProgress?: (epoch: number, epochs: number, utilisation: number[]) => void;
}

/** What the trainer reports. */
export interface RqvaeReport {
  dims: number[];
  sizes: number[];
  /** Share of codes used at each level. */
  utilisation: number[];
  /** Items sharing a full tuple before collision resolution (n − distinct tuples). */
  collisions: number;
  uniqueTuples: number;
  reconMse: number;
  revivedCodes: number;
  epochs: number;
  seconds: number;
}

/** Train RQ-VAE on n × dim embeddings; returns the encoder widths and weights, codebooks and report. */
export async function trainRqvae(x: Float32Array, n: number, dim: number, sizes: readonly number[], opts: RqvaeOptions = {}): Promise<{ dims: number[]; weights: Float32Array; codebooks: Float32Array[]; report: RqvaeReport }> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'semrec-rqvae-'));
  try {
    const emb = path.join(work, 'x.f32');
    await fs.writeFile(emb, new Uint8Array(x.buffer, x.byteOffset, n * dim * 4));
    const cfg = {
      embeddings: emb,
      n,
      dim,
      sizes,
      latent_dim: opts.latentDim ?? 32,
      hidden: opts.hidden ?? [256, 128],
      epochs: opts.epochs ?? 300,
      batch_size: opts.batchSize ?? 1024,
      lr: opts.lr ?? 1e-3,
      beta: opts.beta ?? 0.25,
      reinit_every: opts.reinitEvery ?? 10,
      device: opts.device ?? 'cpu',
      seed: opts.seed ?? 0,
      out: path.join(work, 'out'),
    };
    const cfgFile = path.join(work, 'config.json');
    await fs.writeFile(cfgFile, JSON.stringify(cfg));
    await runTrainer(['rqvae', '--config', cfgFile], (e) => {
      if (e.event === 'progress') opts.onProgress?.(e.epoch as number, e.epochs as number, e.utilisation as number[]);
    }, { threads: 1 }); // small matrices: one thread is as fast as two and never oversubscribes a busy machine
    const report = JSON.parse(await fs.readFile(path.join(cfg.out, 'rqvae.json'), 'utf8')) as RqvaeReport;
    const buf = await fs.readFile(path.join(cfg.out, 'rqvae.f32'));
    const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const dims = report.dims;
    const nw = mlpWeightCount(dims);
    const latent = dims[dims.length - 1];
    const want = nw + sizes.reduce((s, k) => s + k * latent, 0);
    if (all.length !== want) throw new TrainerError(`rqvae.f32 has ${all.length} values, expected ${want}`);
    const codebooks: Float32Array[] = [];
    let o = nw;
    for (const k of sizes) {
      codebooks.push(all.slice(o, o + k * latent));
      o += k * latent;
    }
    return { dims, weights: all.slice(0, nw), codebooks, report };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
