/** Where item embeddings come from (the type the encoders and their stored state share). */
export type EmbeddingSource =
  | { kind: 'tfidf'; dim?: number; seed?: number }
  | {
      /** `cf`: collaborative only; `text+cf`: TF-IDF + SVD text and collaborative, concatenated. */
      kind: 'cf' | 'text+cf';
      /** Training sequences (item ids, oldest first) — the train split only. */
      sequences: ReadonlyArray<readonly string[]>;
      /** Collaborative dimension (default 64). */
      dim?: number;
      /** Text dimension (default 64). */
      textDim?: number;
      /** Co-occurrence window (default 3). */
      window?: number;
      seed?: number;
    }
  | { kind: 'onnx'; dir: string; batchSize?: number; threads?: number }
  | { kind: 'file'; file: string };
