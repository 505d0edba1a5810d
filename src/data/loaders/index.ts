/** Dataset loaders: each reads one source format into a {@link RawDataset}. */
export { loadAmazon2014 } from './amazon2014.js';
export { loadP5 } from './p5.js';
export { loadRecbole, readRecboleItems, parseTokenSeq } from './recbole.js';
export { loadMovieLens } from './movielens.js';
export { loadGeneric } from './generic.js';
