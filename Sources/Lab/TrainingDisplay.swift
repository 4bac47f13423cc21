/// What a front end that draws training live receives through `Session.onTrainingDisplay`:
/// the progress line of the running phase and the epoch table, each meant to be redrawn in
/// place (a notebook updates one display instead of printing thousands of lines).
public enum TrainingDisplay {
    /// The running phase (`train`, `valid`): batches done of total, and the line a terminal shows.
    case progress(label: String, done: Int, total: Int, line: String)
    /// The phase ended (a terminal erases its line).
    case progressEnd
    /// The epoch table so far: column names, one row of cells per finished epoch, and its text as
    /// the REPL prints it (header and rows, one per line).
    case epochTable(names: [String], rows: [[String]], text: String)
}
