import Foundation

/// Errors raised by the Learn module. Each description is one line naming what was wrong and where.
public enum LearnError: Error, CustomStringConvertible, Equatable {
    /// A hyper-parameter is out of range (`what` names it, `detail` says why).
    case invalidHyperParameter(String, String)
    /// The validation set has no batches.
    case emptyValidationSet
    /// The training set has no batches.
    case emptyTrainingSet
    /// The training loss became NaN or infinite; weights were restored to the last good values.
    case nonFiniteLoss(epoch: Int, batch: Int, loss: Float)
    /// A parameter is not covered by any group rule of a split.
    case ungroupedParameter(String)
    /// A group rule matched no parameter.
    case emptyGroup(Int)
    /// Sampling got probabilities that sum to zero, or are not finite.
    case invalidDistribution(step: Int)
    /// A checkpoint does not match the model or optimizer it is restored into.
    case checkpointMismatch(String)
    /// Something else that cannot proceed.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .invalidHyperParameter(what, detail): return "invalid \(what): \(detail)"
        case .emptyValidationSet: return "the validation set is empty: cannot compute valid_loss or metrics"
        case .emptyTrainingSet: return "the training set is empty: nothing to train on"
        case let .nonFiniteLoss(epoch, batch, loss):
            return "training loss became \(loss) at epoch \(epoch), batch \(batch); weights restored to the last finite-loss values (try a lower learning rate)"
        case let .ungroupedParameter(name): return "parameter '\(name)' matches no parameter-group rule"
        case let .emptyGroup(i): return "parameter group \(i) matches no parameter"
        case let .invalidDistribution(step):
            return "invalid sampling distribution at generation step \(step) (sum of probabilities <= 0 or not finite; temperature too small?)"
        case let .checkpointMismatch(detail): return "checkpoint does not match: \(detail)"
        case let .invalidArgument(detail): return detail
        }
    }
}
