import Tensor

/// Facts about this build of LMLab.
public enum LabInfo {
    public static let version = "0.1.0"
}
