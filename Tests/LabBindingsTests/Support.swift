import Lab
import LabBindings
import Tensor

/// The text a session shows for `source` (outputs joined by newlines).
func show(_ source: String, in session: Session = Session()) -> String {
    session.run(source).text
}

extension Value {
    var asTensor: Tensor? { if case .tensor(let t) = self { return t }; return nil }
}
