/// fastai's special tokens. Their order fixes the first vocabulary ids (xxunk = 0 … xxmaj = 8).
public enum SpecialTokens {
    public static let unk = "xxunk"
    public static let pad = "xxpad"
    public static let bos = "xxbos"
    public static let eos = "xxeos"
    public static let fld = "xxfld"
    public static let rep = "xxrep"
    public static let wrep = "xxwrep"
    public static let up = "xxup"
    public static let maj = "xxmaj"

    /// All nine, in fastai's order (`defaults.text_spec_tok`).
    public static let all: [String] = [unk, pad, bos, eos, fld, rep, wrep, up, maj]

    /// Filler appended so the vocabulary size is a multiple of 8; never produced by encoding.
    public static let fake = "xxfake"

    /// Id of `xxunk` in every vocabulary built by `Vocab(counter:…)`.
    public static let unkID = 0
}
