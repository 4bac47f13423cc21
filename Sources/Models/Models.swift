import Tensor

/// The Models module.
public enum ModelsModule {}
