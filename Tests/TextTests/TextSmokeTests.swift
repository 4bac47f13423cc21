import Testing
@testable import Text

@Test func resourcesBundleExists() {
    #expect(TextModule.resources.bundlePath.isEmpty == false)
}
