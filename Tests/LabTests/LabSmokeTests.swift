import Testing
@testable import Lab

@Test func versionIsSemantic() {
    #expect(LabInfo.version.split(separator: ".").count == 3)
}
