// swift-tools-version:6.0
import PackageDescription

/// Modules whose loops run per weight, per token or per voxel are optimised in every configuration:
/// at -Onone the tiny model used by the integration tests runs about 50x slower, which would make
/// the test suite measure the compiler rather than the code.
let computeKernelFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

// Dependencies point one way: executables -> Pipeline -> RadFM/Imaging/Kafka/Postgres -> Tensor and C targets.
let package = Package(
    name: "RadFM",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "radfm", targets: ["radfm"]),
        .executable(name: "radfm-train", targets: ["radfm-train"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        // C libraries from Debian packages.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // SIMD kernels OpenBLAS lacks; AVX-512 is chosen at run time, so the binary runs on any x86-64.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "CDicom",
            cxxSettings: [.unsafeFlags(["-I/usr/include/dcmtk", "-I/usr/include/openjpeg-2.5", "-std=c++17"])],
            linkerSettings: [
                .linkedLibrary("dcmimage"), .linkedLibrary("dcmimgle"), .linkedLibrary("dcmjpeg"),
                .linkedLibrary("dcmjpls"), .linkedLibrary("dcmdata"), .linkedLibrary("oflog"),
                .linkedLibrary("ofstd"), .linkedLibrary("stdc++"),
                .linkedLibrary("openjp2"), .linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("z"),
            ]
        ),

        // Libraries.
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CKernels"],
                swiftSettings: computeKernelFlags),
        .target(name: "RadFM", dependencies: ["Tensor"],
                swiftSettings: computeKernelFlags),
        .target(name: "Imaging", dependencies: ["CDicom", "Tensor"], swiftSettings: computeKernelFlags),
        .target(name: "Kafka", dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Postgres", dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]),
        .target(name: "RadBench", dependencies: []),
        .target(name: "Training", dependencies: ["RadFM", "Imaging", "Tensor"],
                swiftSettings: computeKernelFlags),
        .target(name: "Pipeline", dependencies: [
            "RadFM", "Imaging", "Kafka", "Postgres", "RadBench", "Yams",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // Executables.
        .executableTarget(name: "radfm", dependencies: [
            "Pipeline", "RadFM", "Imaging", "Kafka", "Postgres", "Tensor", "RadBench",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "radfm-train", dependencies: [
            "Training", "RadFM", "Tensor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tests: one target per library, plus integration tests against real servers.
        .target(name: "TestSupport", dependencies: ["Postgres", "Kafka"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "RadFMTests", dependencies: ["RadFM", "Tensor", "TestSupport"], exclude: ["Fixtures", "ModelReference"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "CDicom"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "RadBenchTests", dependencies: [
            "RadBench", "Imaging", "Postgres", "TestSupport", .product(name: "Logging", package: "swift-log"),
        ], exclude: ["Fixtures"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "RadFM", "Tensor"], exclude: ["Reference"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "TestSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Pipeline", "Kafka", "Postgres", "Imaging", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
