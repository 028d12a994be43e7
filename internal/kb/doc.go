// Package kb is the retrieval core of the bot's knowledge base (issue 7):
// it finds the FAQ entry or document passage that answers a visitor's
// question, in Chinese and English, without any language model.
//
//   - Tokenizer: width and case folding, gse segmentation for Chinese (with
//     the characters of each word as extra terms), Porter's stemmer with
//     irregular forms for English, stop words for both, numbers kept
//     whole, and concept terms from a bundled bilingual e-commerce
//     lexicon (concepts.txt: 退款/退钱/money back meet at one concept).
//   - Index: BM25 over FAQ phrasings (question field) and answers and
//     passages (body field), per-workspace synonyms, a confidence score and
//     threshold, incremental upsert and removal, Save/Load with encoding/gob.
//   - Cache and Base: the hot-answer cache in front of the index, kept
//     consistent with entry changes.
//
// One Index and one Base serve one workspace. The package holds no
// mutable state: the segmenter (one per process, its dictionary is large)
// is passed in. Storage, the REST API, metrics export and the answer
// pipeline live elsewhere and call into this package.
package kb
