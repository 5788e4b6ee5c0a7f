// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way: executables -> Pipeline -> RadFM/Imaging/Kafka/Postgres -> Tensor and C targets.
let package = Package(
    name: "RadFM",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "radfm", targets: ["radfm"]),
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
        .target(name: "Tensor", dependencies: ["COpenBLAS"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "RadFM", dependencies: ["Tensor"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "Imaging", dependencies: ["CDicom", "Tensor"]),
        .target(name: "Kafka", dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Postgres", dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]),
        .target(name: "RadBench", dependencies: []),
        .target(name: "Pipeline", dependencies: [
            "RadFM", "Imaging", "Kafka", "Postgres", "Yams",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // Executables.
        .executableTarget(name: "radfm", dependencies: [
            "Pipeline", "RadFM", "Imaging", "Kafka", "Postgres", "Tensor", "RadBench",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Tests: one target per library, plus integration tests against real servers.
        .target(name: "TestSupport", dependencies: ["Postgres", "Kafka"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "RadFMTests", dependencies: ["RadFM", "Tensor"], exclude: ["Fixtures", "ModelReference"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "CDicom"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "RadBenchTests", dependencies: ["RadBench"], exclude: ["Fixtures"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "TestSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Pipeline", "Kafka", "Postgres", "Imaging", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
