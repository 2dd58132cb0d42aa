/**
 * Semantic similarity, offline by default.
 *
 * The default `lexical` provider is a documented bag-of-features cosine, no model needed:
 *   words:  lowercased alphanumeric tokens, English stop words dropped, a light suffix stemmer
 *           (-ing, -ed, -es, -s, -ly), weighted by term frequency; unigrams and adjacent bigrams.
 *   chars:  character trigrams of the normalised text (robust to typos and inflection).
 *   similarity = 0.6 · cos(words) + 0.4 · cos(chars)          ∈ [0, 1]
 * It rewards shared vocabulary, not meaning: paraphrases with new words score lower than they should,
 * which is why the provider is pluggable — `embeddingProvider(embed)` wraps any embedding function
 * (cosine of the two vectors), and a scenario picks a provider by name (`provider: <name>`).
 */

export interface SimilarityProvider {
  readonly name: string;
  /** Similarity of two texts in [0, 1]. */
  similarity(a: string, b: string): Promise<number>;
}

/** A judge for requirements that have no mechanical verifier (`verify: llm_judge`). */
export interface JudgeProvider {
  readonly name: string;
  judge(input: { requirement: string; diff: string; prompt: string }): Promise<{ verdict: 'met' | 'not_met' | 'unsure'; reason: string }>;
}

const STOP_WORDS = new Set(
  'a an and are as at be by for from has have in is it its of on or that the this to was were will with which who whom into than then there these those so such not no but if do does did can could should would may might must shall our we you your they them their he she his her i me my'.split(' '),
);

export function stem(word: string): string {
  for (const suffix of ['ing', 'ed', 'es', 'ly', 's'])
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) return word.slice(0, -suffix.length);
  return word;
}

export function words(text: string): string[] {
  return (text.toLowerCase().normalize('NFKD').match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOP_WORDS.has(w)).map(stem);
}

function countVector(features: string[]): Map<string, number> {
  const v = new Map<string, number>();
  for (const f of features) v.set(f, (v.get(f) ?? 0) + 1);
  return v;
}

export function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [k, x] of a) {
    na += x * x;
    const y = b.get(k);
    if (y) dot += x * y;
  }
  for (const y of b.values()) nb += y * y;
  return na === 0 || nb === 0 ? 0 : Math.min(1, dot / Math.sqrt(na * nb));
}

export function lexicalSimilarity(a: string, b: string): number {
  const wa = words(a);
  const wb = words(b);
  const wordFeatures = (w: string[]) => [...w, ...w.slice(1).map((x, i) => `${w[i]}_${x}`)];
  const trigrams = (t: string) => {
    const s = ` ${t.toLowerCase().replace(/\s+/g, ' ').trim()} `;
    return Array.from({ length: Math.max(0, s.length - 2) }, (_, i) => s.slice(i, i + 3));
  };
  if (a.trim() === '' && b.trim() === '') return 1;
  const chars = cosine(countVector(trigrams(a)), countVector(trigrams(b)));
  // Texts made only of stop words or symbols have no word features: the characters decide alone.
  const wordSim = wa.length === 0 && wb.length === 0 ? chars : cosine(countVector(wordFeatures(wa)), countVector(wordFeatures(wb)));
  return Math.min(1, 0.6 * wordSim + 0.4 * chars);
}

export const lexicalProvider: SimilarityProvider = { name: 'lexical', similarity: async (a, b) => lexicalSimilarity(a, b) };

/** Wraps an embedding function (e.g. an HTTP embedding API) as a similarity provider: cosine of the vectors, clamped to [0,1]. */
export function embeddingProvider(name: string, embed: (texts: string[]) => Promise<number[][]>): SimilarityProvider {
  return {
    name,
    async similarity(a, b) {
      const [va, vb] = await embed([a, b]);
      let dot = 0;
      let na = 0;
      let nb = 0;
      va.forEach((x, i) => {
        dot += x * (vb[i] ?? 0);
        na += x * x;
      });
      for (const y of vb) nb += y * y;
      return na === 0 || nb === 0 ? 0 : Math.max(0, Math.min(1, dot / Math.sqrt(na * nb)));
    },
  };
}
