// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way only:
// CBLAS/CEditLine → Tensor → Interop, Text, Models → Learn → LabBindings → Kernel (with CZeroMQ, CSodium) → lmlab
// (Models also uses AVX512Kernels, a leaf). Interop reads and writes other tools' files (zip,
// pickle, torch checkpoints, fastai exports, safetensors); Models knows state dicts, not files,
// and Learn joins the two. Files (crash-safe writes, CRC-32, one-line file errors) is a leaf used
// by every module that touches the disk. The command language, Lab, needs only Tensor and Files
// (its values include tensors, lessons are files); LabBindings binds Text, Models and Learn into
// it, so the language can be read and tested without the library.
// Every target declares each module it imports, even one it would reach through another.

// The hot loops (LSTM step kernels, softmax, Adam) are written with SIMD8<Float> and fused
// multiply-adds; without a target CPU the compiler only emits baseline x86-64 (SSE2, no FMA),
// where SIMD8 runs at half width and `addingProduct` becomes a library call. Haswell's AVX2 + FMA
// is on every x86-64 server CPU of the last decade (Intel since 2013, AMD since 2017).
// AVX512Kernels alone is built for AVX-512; Models calls it only on CPUs that have it.
#if arch(x86_64)
let fast: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
let avx512: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "skylake-avx512"])]
#else
let fast: [SwiftSetting] = []
let avx512: [SwiftSetting] = []
#endif
let package = Package(
    name: "LMLab",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "LMLab", targets: ["Files", "Tensor", "Interop", "Text", "Models", "Learn", "Lab", "LabBindings"]),
        .executable(name: "lmlab", targets: ["lmlab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CEditLine", path: "Sources/CEditLine",
                       providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ",
                       providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSodium", path: "Sources/CSodium",
                       providers: [.apt(["libsodium-dev"])]),
        .target(name: "Files", swiftSettings: fast),
        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: fast),
        .target(name: "Interop", dependencies: ["Tensor", "Files"], swiftSettings: fast),
        .target(name: "Text", dependencies: ["Tensor", "Files"], resources: [.copy("Resources")]),
        .target(name: "AVX512Kernels", swiftSettings: avx512),
        .target(name: "Models", dependencies: ["Tensor", "AVX512Kernels"], swiftSettings: fast),
        .target(name: "Learn", dependencies: ["Tensor", "Interop", "Files", "Text", "Models"], swiftSettings: fast),
        .target(name: "Lab", dependencies: ["Tensor", "Files"]),
        .target(name: "LabBindings", dependencies: ["Lab", "Tensor", "Files", "Text", "Models", "Learn"]),
        // The Jupyter kernel: a front end of the language with its bindings, like the REPL.
        .target(name: "Kernel", dependencies: ["Lab", "LabBindings", "Tensor", "CZeroMQ", "CSodium"]),
        .executableTarget(name: "lmlab", dependencies: [
            "Lab", "LabBindings", "Kernel", "Learn", "Models", "Tensor", "Text", "Files", "CEditLine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Fixture lookup shared by the test targets (honours LMLAB_REFERENCE).
        .target(name: "TestSupport", dependencies: ["Tensor", "Interop"], path: "Tests/TestSupport"),
        .testTarget(name: "FilesTests", dependencies: ["Files"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "InteropTests", dependencies: ["Interop", "Tensor", "Files", "TestSupport"]),
        .testTarget(name: "TextTests", dependencies: ["Text", "Tensor", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Tensor", "Interop", "AVX512Kernels", "TestSupport"]),
        .testTarget(name: "LearnTests", dependencies: ["Learn", "Tensor", "Interop", "Text", "Models", "TestSupport"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "Tensor"]),
        .testTarget(name: "LabBindingsTests", dependencies: ["LabBindings", "Lab", "Learn", "Tensor", "Files", "TestSupport"]),
        // jupyter/ holds the Python scripts the end-to-end tests run with the real Jupyter client.
        .testTarget(name: "KernelTests", dependencies: ["Kernel", "Lab", "LabBindings", "TestSupport"], exclude: ["jupyter"]),
    ]
)
