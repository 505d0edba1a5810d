/** `semrec llm check`: does semrec read a Hugging Face checkpoint faithfully (training/llm-check.ts). */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { loadIndex } from '../../quantizer/index.js';
import { llmCheck } from '../training/llm-check.js';
import { intOpt } from './common.js';

/** Register `llm check`. */
export function registerLlm(program: Command): void {
  const llm = program.command('llm').description('language-model checkpoints (llama | qwen2 | qwen3) for `train --base`');
  llm
    .command('check')
    .description("the checkpoint's perplexity on the dataset's item titles (a real model: tens to low hundreds; random or misread weights: thousands) and the round trip of the ID tokens through its tokenizer")
    .requiredOption('--base <dir>', 'Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json)')
    .requiredOption('--data <dir>', 'dataset directory (its item titles are scored)')
    .option('--index <dir>', 'index whose ID tokens are added in the round trip (default: 3 levels of 256)')
    .option('--titles <n>', 'titles scored (seeded random sample; default 500)')
    .option('--seed <n>', 'sample seed (default 0)')
    .action(async (flags: Record<string, string | undefined>) => {
      const sizes = flags.index ? [...(await loadIndex(flags.index)).codebookSizes] : undefined;
      const r = await llmCheck({ base: flags.base!, data: flags.data!, sizes, titles: intOpt('--titles', flags.titles, 1), seed: intOpt('--seed', flags.seed, 0) });
      process.stderr.write(`  ${r.modelType} checkpoint: perplexity ${r.perplexity.toFixed(1)} on ${r.tokens} tokens of ${r.titles} titles (seeded random sample, seed ${r.seed}) → ${r.verdict}${r.verdict === 'suspicious' ? ` (≥ ${r.threshold.toFixed(0)}: random weights, or weights read wrongly)` : ''}\n`);
      process.stderr.write(`  ID tokens: ${r.idCount} at ${r.idStart}…${r.idStart + r.idCount - 1}, vocabulary ${r.vocabBefore} → ${r.vocabAfter}; every ID token round-trips through the tokenizer\n`);
      console.log(JSON.stringify(r));
      if (!Number.isFinite(r.perplexity)) throw new InputError('the perplexity is not finite: the checkpoint is broken');
    });
}
