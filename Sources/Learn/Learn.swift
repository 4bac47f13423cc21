import Tensor

/// The Learn module.
public enum LearnModule {}
