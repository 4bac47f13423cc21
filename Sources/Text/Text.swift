import Foundation
import Tensor

/// The Text module: fastai's text pipeline (rules, word and subword tokenizers,
/// Numericalize, loaders and displays).
public enum TextModule {
    /// Bundled resources (spaCy tables, sample data) live here.
    public static var resources: Bundle { Bundle.module }
}
