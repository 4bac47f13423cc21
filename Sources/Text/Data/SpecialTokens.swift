/// fastai's special tokens (`fastai.text.core`), in the fixed order `make_vocab` puts them
/// at the front of every vocabulary: xxunk = 0, xxpad = 1, xxbos = 2, …, xxmaj = 8.
public enum SpecialTokens {
    /// Unknown word (id 0): every token not in the vocabulary encodes to this.
    public static let unk = "xxunk"
    /// Padding (id 1), used by the classifier loader.
    public static let pad = "xxpad"
    /// Beginning of stream: starts every document.
    public static let bos = "xxbos"
    /// End of stream (not added by the default rules).
    public static let eos = "xxeos"
    /// Field separator (multi-field texts).
    public static let fld = "xxfld"
    /// Repeated character marker (`xxrep 5 o`).
    public static let rep = "xxrep"
    /// Repeated word marker (`xxwrep 3 no`).
    public static let wrep = "xxwrep"
    /// The next word was written in capitals.
    public static let up = "xxup"
    /// The next word was capitalized.
    public static let maj = "xxmaj"
    /// Filler appended so the vocabulary size is a multiple of 8; never produced by encoding.
    public static let fake = "xxfake"

    /// The nine specials in vocabulary order.
    public static let all = [unk, pad, bos, eos, fld, rep, wrep, up, maj]

    /// Id of `xxunk` in every vocabulary built by `Vocab(counter:…)`.
    public static let unkID = 0
    /// Id of `xxpad`.
    public static let padID = 1
    /// Id of `xxbos`.
    public static let bosID = 2
}
