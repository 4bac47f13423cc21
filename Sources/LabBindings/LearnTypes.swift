import Lab
import Learn
import Models
import Tensor

/// The object types of the learner side (learners, their data, metrics, lr_find, the recorder,
/// model inspection and traces), made once per session and shared by the learn, data,
/// inspection and trace bindings, so `unwrap` recognises values made by any of them.
final class LearnTypes {
    let plot: ObjectType<LinePlot>
    let metric = ObjectType<MetricValue>("Metric", summary: "a metric shown in the epoch table")
    let lm = ObjectType<LanguageModelLearner>("LMLearner", summary: "a language-model learner (AWD-LSTM + data + optimizer)")
    let clas = ObjectType<TextClassifierLearner>("TextLearner", summary: "a text-classifier learner (SentenceEncoder + pooling head)")
    let loaded = ObjectType<LoadedLearner>("LoadedLearner", summary: "a learner read back by load_learner (predict only)")
    let lrFind = ObjectType<LRFindResult>("SuggestedLRs", summary: "the result of lr_find: the suggestion and the loss curve")
    let recorder = ObjectType<() -> Recorder>("Recorder", summary: "losses, learning rates and epoch rows recorded during training")
    let lmData = ObjectType<LabLMData>("LMLearnerData", summary: "language-model data ready for language_model_learner")
    let clasData = ObjectType<LabClasData>("ClassifierLearnerData", summary: "classifier data ready for text_classifier_learner")
    let parameter = ObjectType<Parameter>("Parameter", summary: "a named weight tensor with its gradient")
    let model = ObjectType<ModelView>("Module", summary: "a model or submodule: parameters by name (m.encoder.weight, m['0.encoder.weight'])")
    let trace = ObjectType<TraceResult>("Trace", summary: "one traced training step: inputs, embedding, dropout masks, per-layer gates and states, logits, loss, gradients")
    let masks = ObjectType<MaskTrace>("TraceMasks", summary: "the dropout masks of a traced step (0 = dropped, 1/(1-p) = kept; None where off)")
    let layer = ObjectType<LayerTrace>("TraceLayer", summary: "one LSTM layer of a traced step: input, gates i f g o, states h c, output")
    let grads = ObjectType<GradTrace>("TraceGrads", summary: "gradients of a traced step by parameter name: g['0.encoder.weight'], g.keys()")

    init(plot: ObjectType<LinePlot>) { self.plot = plot }

    /// A model or submodule as a language value.
    func module(_ v: ModelView) -> Value { .object(ModuleObject(v)) }
}
