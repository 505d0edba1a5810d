/** `semrec train` (all model kinds) and `semrec export-hf`. */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { trainModel, trainNodeRanks } from '../training/train.js';
import { parseTransitionShape } from '../training/transition-select.js';
import { exportHfModel } from '../training/hf-export.js';
import { startProgress } from '../util/progress.js';
import { decoderOptions, gridOpt, intOpt, sasrecOptions } from './common.js';

/** Register train / export-hf. */
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the generator on a dataset under an index: the transformer (PyTorch trainer → ONNX) fused with the transition model, the weight chosen on validation')
    .requiredOption('--data <dir>', 'dataset directory')
    .requiredOption('--index <dir>', 'index directory')
    .requiredOption('--out <dir>', 'output model directory (written atomically)')
    .option('--force', 'replace whatever --out holds (default: refuse an existing directory that is not a model directory)')
    .option('--arch <kind>', 'fused (transformer + transition model, weight chosen on validation) | transformer | transition (aliases: decoder, bigram) | llm (the transformer with the llm block, refusing --block gpt2; `--base DIR` fine-tunes a checkpoint) | sasrec (the ID-based SASRec baseline: --layers, --d-model, --heads, --dropout, --lr, --batch-size, --epochs, --patience, --loss, --negatives, --weight-decay)', 'fused')
    .option('--block <name>', 'the transformer block: llm (default; Llama family: RMSNorm, rotary, SwiGLU, grouped-query attention, Qwen3 q/k norms; Hugging Face names) | gpt2 (LayerNorm, GELU, learned positions)')
    .option('--kv-heads <n>', 'key/value heads of the llm block (grouped-query attention; default: --heads)')
    .option('--base <dir>', 'fine-tune this Hugging Face checkpoint (llama | qwen2 | qwen3: config.json, *.safetensors, tokenizer.json) with the ID tokens added, instead of training from scratch (docs/generator.md)')
    .option('--lora <r>', 'with --base: LoRA rank (default 0: every weight is fine-tuned); the ID tokens\' rows are always trained')
    .option('--lora-alpha <x>', 'with --base: LoRA scale numerator (default 2 × rank)')
    .option('--prompt <text>', 'with --base: the prompt; {items} is the history (default "The user bought: {items}. Next:")')
    .option('--item-prompt <text>', 'with --base: one history item; {title} and / or {ids} (default "{title} {ids}")')
    .option('--prompt-separator <text>', 'with --base: text between history items (default "; ")')
    .option('--title-words <n>', 'with --base: words of a title kept in prompts (default 12)')
    .option('--tasks <list>', 'with --base: training tasks, comma-separated: seqrec (default) | title2id | id2title (the alignment tasks of LC-Rec: every titled item, title → IDs and IDs → title)')
    .option('--max-prompt-tokens <n>', 'with --base: longest prompt; the oldest items are dropped to fit (default min(512, positions − levels))')
    .option('--layers <n>', 'transformer layers (default 4)')
    .option('--d-model <n>', 'model width (default 128)')
    .option('--heads <n>', 'attention heads (default 4)')
    .option('--d-ff <n>', 'feed-forward width (default 4 × d-model)')
    .option('--dropout <p>', 'dropout (default 0.2)')
    .option('--loss <kind>', 'sasrec: ce (default: full cross-entropy over the catalogue) | sampled (sampled softmax)')
    .option('--negatives <n>', 'sasrec --loss sampled: uniform negatives per batch (default 256)')
    .option('--weight-decay <x>', 'sasrec: Adam weight decay (default 0)')
    .option('--item-embedding <kind>', 'sasrec: id (default: one learned vector per item) | id+sid (plus one learned vector per code of the item\'s semantic ID, read and scored)')
    .option('--level-loss <x>', 'sasrec --item-embedding id+sid: weight of an auxiliary softmax over each level of the next item\'s semantic ID (default 0)')
    .option('--epochs <n>', 'epoch cap (default 200; the schedule decides when to stop)')
    .option('--max-steps <n>', 'transformer: stop after N optimiser steps (smoke runs and benchmarks: bench/scale.ts)')
    .option('--patience <n>', 'epochs without validation improvement before the decay starts (wsd) or training stops (cosine) (default 3)')
    .option('--batch-size <n>', 'sequences per batch (default 256; the global batch under DDP)')
    .option('--lr <x>', 'peak learning rate (default 3e-3)')
    .option('--schedule <name>', 'wsd (warmup, peak rate until validation is flat, then linear decay; default) | cosine (over --epochs)')
    .option('--time-budget <minutes>', 'stop training within this wall-clock budget (wsd decays in time)')
    .option('--valid-sample <n>', 'validation examples scored each epoch (seeded random sample; default 5000, 0 = all)')
    .option('--fusion-grid <list>', 'transition weights tried on validation (default 0,0.1,0.2,…,0.9,1)')
    .option('--fusion-users <n>', 'validation users the weight is chosen on (seeded random sample; default 2000)')
    .option('--seed <n>', 'random seed (default 0)')
    .option('--transition-fit <data>', 'train (default) | train+valid: store transition counts that include each user\'s validation target (the weight is still chosen with train-only counts; such a model cannot be evaluated on the validation split)')
    .option('--transition-shape <shape>', 'the transition model\'s WINDOW:HISTORY:DECAY (e.g. 3:3:0.3; 1:1:1 = first order) or auto (default: chosen on validation)')
    .option('--transition-users <n>', 'validation users the transition shape is chosen on (seeded random sample; default 5000)')
    .option('--seen <policy>', 'default for history items at serving: auto (default: exclude them only if that raises validation Recall@10) | keep | exclude')
    .option('--transformer-from <dir>', 'fused: reuse the transformer of this model directory (same index) instead of training one; refit the transition part and choose the weight again')
    .option('--device <name>', 'cpu | cuda | cuda:N (default cpu)')
    .option('--nproc <n>', 'train with N processes (DDP; gloo on CPU; default: one per core on CPU, 1 on CUDA)')
    .option('--threads <n>', 'PyTorch threads per process (default: cores ÷ processes)')
    .option('--nnodes <n>', 'train the transformer across N machines (DDP; each runs this command with its own --node-rank and --nproc processes; node 0 writes the model)')
    .option('--node-rank <i>', 'with --nnodes: this machine\'s rank, 0..N−1 (default 0)')
    .option('--master-addr <host>', 'with --nnodes: node 0\'s address, reachable from every node (default 127.0.0.1)')
    .option('--master-port <port>', 'with --nnodes: a free TCP port on node 0 (default 29500)')
    .option('--max-history <n>', 'history items kept in prompts (default: the dataset split setting)')
    .action(async (flags: Record<string, string | undefined>) => {
      const t0 = Date.now();
      let bar: ReturnType<typeof startProgress> | undefined;
      let epoch = 0;
      let fbar: ReturnType<typeof startProgress> | undefined;
      let tbar: ReturnType<typeof startProgress> | undefined;
      let sbar: ReturnType<typeof startProgress> | undefined;
      const isSasrec = flags.arch === 'sasrec';
      if (!isSasrec && ['loss', 'negatives', 'weightDecay', 'itemEmbedding', 'levelLoss'].some((f) => flags[f] !== undefined)) throw new InputError('--loss, --negatives, --weight-decay, --item-embedding and --level-loss are SASRec settings (--arch sasrec)');
      const sasrec = isSasrec
        ? {
            ...sasrecOptions(flags),
            onEvent: (e: Record<string, unknown>) => {
              if (e.event === 'progress') {
                if (e.epoch !== epoch) {
                  bar?.stop();
                  epoch = e.epoch as number;
                  bar = startProgress(`epoch ${epoch}`, e.steps as number, ' steps');
                }
                bar?.update(e.step as number, `loss ${(e.loss as number).toFixed(3)}`);
              } else if (e.event === 'epoch') {
                bar?.stop();
                bar = undefined;
                epoch = 0;
                process.stderr.write(`  epoch ${e.epoch}: train loss ${(e.train_loss as number).toFixed(4)}, valid R@10 ${(e.valid_recall10 as number).toFixed(4)} N@10 ${(e.valid_ndcg10 as number).toFixed(4)}${e.best ? ' (best)' : ''} · ${Math.round(e.seconds as number)} s\n`);
              }
            },
          }
        : undefined;
      const trainOpts: Parameters<typeof trainModel>[0] = {
        data: flags.data!,
        index: flags.index!,
        out: flags.out!,
        force: !!flags.force,
        arch: flags.arch,
        transitionFit: flags.transitionFit as 'train' | 'train+valid' | undefined,
        transitionShape: parseTransitionShape(flags.transitionShape),
        transitionSelect: { users: intOpt('--transition-users', flags.transitionUsers, 1) },
        onTransitionProgress: (d, t) => {
          tbar ??= startProgress('choosing the transition shape on validation', t, ' requests');
          tbar.update(d);
          if (d === t) tbar.stop();
        },
        transformerFrom: flags.transformerFrom,
        seen: flags.seen as 'auto' | 'keep' | 'exclude' | undefined,
        onSeenProgress: (d, t) => {
          sbar ??= startProgress('choosing the seen-item policy on validation', t, ' requests');
          sbar.update(d);
          if (d === t) sbar.stop();
        },
        maxHistory: intOpt('--max-history', flags.maxHistory, 1),
        fusion: { grid: gridOpt(flags.fusionGrid), users: intOpt('--fusion-users', flags.fusionUsers, 1) },
        onFusionProgress: (d, t) => {
          fbar ??= startProgress('choosing the fusion weight on validation', t, ' requests');
          fbar.update(d);
          if (d === t) fbar.stop();
        },
        sasrec,
        decoder: isSasrec ? undefined : {
          ...decoderOptions(flags),
          onEvent: (e) => {
            if (e.event === 'progress') {
              if (e.epoch !== epoch) {
                bar?.stop();
                epoch = e.epoch as number;
                bar = startProgress(`epoch ${epoch}/${e.epochs}`, e.steps as number, ' steps');
              }
              bar?.update(e.step as number, `loss ${(e.loss as number).toFixed(3)} · ${Math.round(e.tokens_per_s as number)} tok/s`);
            } else if (e.event === 'epoch') {
              bar?.stop();
              bar = undefined;
              epoch = 0;
              process.stderr.write(
                `  epoch ${e.epoch}: train loss ${(e.train_loss as number).toFixed(4)}, valid loss ${(e.valid_loss as number).toFixed(4)}${e.best ? ' (best)' : ''} · ${e.phase} lr ${(e.lr as number).toExponential(2)} · ${Math.round(e.seconds as number)} s, ${Math.round(e.tokens_per_s as number)} real tok/s\n`,
              );
            } else if (e.event === 'decay') {
              process.stderr.write(`  decay starts after epoch ${e.epoch} (${e.reason}): ${e.decay_epochs} more epoch(s)\n`);
            }
          },
        },
      };
      if (trainOpts.decoder?.nodes && trainOpts.decoder.nodes.rank > 0) {
        // another node of a multi-node run: its ranks only; node 0 writes the model
        const done = await trainNodeRanks(trainOpts);
        bar?.stop();
        console.log(JSON.stringify({ ...done, out: null, note: 'node 0 writes the model' }));
        return;
      }
      const cfg = await trainModel(trainOpts);
      bar?.stop();
      fbar?.stop();
      const shape = (cfg.params.transition ?? cfg.params) as { selection?: { window: number; history: number; decay: number; users: number; grid: { window: number; history: number; decay: number; recall10: number; ndcg10: number }[] } };
      if (shape.selection) {
        const s = shape.selection;
        process.stderr.write(`  transition shape on ${s.users} validation users (window:history:decay: R@10 / N@10):\n`);
        for (const g of s.grid) process.stderr.write(`    ${g.window}:${g.history}:${g.decay}: ${g.recall10.toFixed(4)} / ${g.ndcg10.toFixed(4)}${g.window === s.window && g.history === s.history && g.decay === s.decay ? '  ← chosen' : ''}\n`);
      }
      const fusion = cfg.params.fusion as { weight: number; grid: { weight: number; recall10: number; ndcg10: number }[]; users: number } | undefined;
      if (fusion) {
        process.stderr.write(`  fusion weight on ${fusion.users} validation users (transition weight: R@10 / N@10):\n`);
        for (const g of fusion.grid) process.stderr.write(`    ${g.weight.toFixed(2)}: ${g.recall10.toFixed(4)} / ${g.ndcg10.toFixed(4)}${g.weight === fusion.weight ? '  ← chosen' : ''}\n`);
      }
      const seen = cfg.params.seen as { exclude: boolean; users?: number; repeatRate?: number; keep?: { recall10: number; ndcg10: number }; excluded?: { recall10: number; ndcg10: number } } | undefined;
      if (seen?.keep && seen.excluded) {
        const f = (m: { recall10: number; ndcg10: number }) => `${m.recall10.toFixed(4)} / ${m.ndcg10.toFixed(4)}`;
        process.stderr.write(`  history items on ${seen.users} validation users (R@10 / N@10; ${(100 * seen.repeatRate!).toFixed(1)} % of targets repeat a history item): kept ${f(seen.keep)}, excluded ${f(seen.excluded)} → ${seen.exclude ? 'excluded' : 'kept'} by default\n`);
      }
      console.log(JSON.stringify({ out: flags.out, architecture: cfg.architecture, indexHash: cfg.indexHash, seconds: (Date.now() - t0) / 1000, ...cfg.params }));
    });

  program
    .command('export-hf')
    .description('export a transformer model in the Hugging Face / Optimum layout (Qwen3 names for the llm block, GPT-2 names for the gpt2 block; ID tokens as added tokens, prompt template)')
    .requiredOption('--model <dir>', 'semrec transformer model directory')
    .requiredOption('--out <dir>', 'output directory')
    .option('--force', 'replace whatever --out holds (default: refuse an existing directory that is not an exported model)')
    .option('--template <text>', 'prompt template around the history ({history})', '<|endoftext|>{history}')
    .option('--separator <text>', 'text between history items', '')
    .option('--words <list>', 'extra comma-separated words for the text vocabulary')
    .action(async (flags: { model: string; out: string; force?: boolean; template: string; separator: string; words?: string }) => {
      const t0 = Date.now();
      const serving = await exportHfModel(flags.model, flags.out, { promptTemplate: flags.template, itemSeparator: flags.separator, words: flags.words?.split(',').filter(Boolean), force: !!flags.force });
      console.log(JSON.stringify({ out: flags.out, seconds: (Date.now() - t0) / 1000, ...serving }));
    });

}
