/** `rqvae:LxK` — reserved for RQ-VAE codebooks trained by the PyTorch trainer (not available yet). */
import { QuantizerInputError } from '../errors.js';
import type { IndexingScheme } from './scheme.js';

const unavailable = () => new QuantizerInputError('rqvae indexes are produced by the trainer (`semrec index build --scheme rqvae:...` is not available yet)');

export const rqvaeScheme: IndexingScheme = {
  name: 'rqvae',
  description: 'RQ-VAE codebooks (TIGER); not available yet',
  build() {
    throw unavailable();
  },
  assign() {
    throw unavailable();
  },
};
