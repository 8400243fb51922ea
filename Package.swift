// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "crm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "crm-attributes", targets: ["crm-attributes"]),
        .executable(name: "crm-events", targets: ["crm-events"]),
        .executable(name: "crm-documents", targets: ["crm-documents"]),
        .executable(name: "crm-calendar", targets: ["crm-calendar"]),
        .executable(name: "crm-reporting", targets: ["crm-reporting"]),
        .executable(name: "crm-devbroker", targets: ["crm-devbroker"]),
        .executable(name: "crm", targets: ["crm"]),
        .executable(name: "crm-bench", targets: ["crm-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // C libraries from Debian packages, never vendored.
        .systemLibrary(
            name: "CRdKafka", path: "Shared/CRdKafka", pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),

        // Shared modules every service uses.
        .target(
            name: "Kafka", dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ], path: "Shared/Kafka", swiftSettings: strict),
        .target(name: "TextFormat", path: "Shared/TextFormat", swiftSettings: strict),
        .target(
            name: "Postgres", dependencies: [
                "CLibPQ", "TextFormat",
                .product(name: "Logging", package: "swift-log"),
            ], path: "Shared/Postgres", swiftSettings: strict),
        .target(name: "Contracts", dependencies: ["TextFormat"], path: "Shared/Contracts", swiftSettings: strict),
        .target(
            name: "Messaging", dependencies: [
                "Kafka", "Postgres", "Contracts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Shared/Messaging", swiftSettings: strict),
        .target(
            name: "ServiceKit", dependencies: [
                "Kafka", "Postgres", "Messaging", "Contracts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ], path: "Shared/ServiceKit", swiftSettings: strict),

        // Services: a library each (tests run it in-process) and a thin executable.
        .target(
            name: "Attributes", dependencies: ["ServiceKit", "Messaging", "Postgres", "Kafka", "Contracts"],
            path: "Services/Attributes/Library", resources: [.copy("Migrations"), .copy("OpenAPI")], swiftSettings: strict),
        .executableTarget(
            name: "crm-attributes", dependencies: ["Attributes"],
            path: "Services/Attributes/Executable", swiftSettings: strict),

        .target(
            name: "Events", dependencies: ["ServiceKit", "Messaging", "Postgres", "Kafka", "Contracts"],
            path: "Services/Events/Library", resources: [.copy("Migrations"), .copy("OpenAPI")], swiftSettings: strict),
        .executableTarget(
            name: "crm-events", dependencies: ["Events"],
            path: "Services/Events/Executable", swiftSettings: strict),

        .target(
            name: "Documents", dependencies: ["ServiceKit", "Messaging", "Postgres", "Kafka", "Contracts"],
            path: "Services/Documents/Library", resources: [.copy("Migrations"), .copy("OpenAPI")], swiftSettings: strict),
        .executableTarget(
            name: "crm-documents", dependencies: ["Documents"],
            path: "Services/Documents/Executable", swiftSettings: strict),

        .target(
            name: "CalendarService", dependencies: [
                "ServiceKit", "Messaging", "Postgres", "Kafka", "Contracts",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Services/Calendar/Library", resources: [.copy("Migrations"), .copy("OpenAPI")], swiftSettings: strict),
        .executableTarget(
            name: "crm-calendar", dependencies: ["CalendarService"],
            path: "Services/Calendar/Executable", swiftSettings: strict),

        .target(
            name: "Reporting", dependencies: [
                "ServiceKit", "Messaging", "Postgres", "Kafka", "Contracts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/Reporting/Library", resources: [.copy("Migrations"), .copy("OpenAPI")], swiftSettings: strict),
        .executableTarget(
            name: "crm-reporting", dependencies: ["Reporting"],
            path: "Services/Reporting/Executable", swiftSettings: strict),

        // Developer tools.
        .executableTarget(
            name: "crm-devbroker", dependencies: [
                "Kafka", "Messaging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ], path: "Tools/crm-devbroker", swiftSettings: strict),
        .executableTarget(
            name: "crm", dependencies: [
                "ServiceKit", "Kafka", "Contracts", "Messaging", "Postgres", "Attributes", "Events", "Documents", "CalendarService", "Reporting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Tools/crm", swiftSettings: strict),
        .executableTarget(
            name: "crm-bench", dependencies: [
                "Kafka", "Postgres", "Messaging", "Contracts", "Events", "Documents", "CalendarService", "Reporting", "ServiceKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ], path: "Tools/crm-bench", swiftSettings: strict),

        // Tests: real PostgreSQL (from deploy/local/test) and the embedded Kafka cluster.
        .target(
            name: "TestSupport", dependencies: [
                "Kafka", "Postgres", "Messaging", "ServiceKit",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(
            name: "PostgresTests", dependencies: ["Postgres", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "KafkaTests", dependencies: ["Kafka", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "ContractsTests", dependencies: ["Contracts"],
            swiftSettings: strict),
        .testTarget(
            name: "MessagingTests", dependencies: ["Messaging", "Contracts", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "AttributesTests", dependencies: [
                "Attributes", "ServiceKit", "Kafka", "Messaging", "Contracts", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ], swiftSettings: strict),
        .testTarget(
            name: "EventsTests", dependencies: [
                "Events", "ServiceKit", "Kafka", "Messaging", "Contracts", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .testTarget(
            name: "DocumentsTests", dependencies: [
                "Documents", "ServiceKit", "Kafka", "Messaging", "Contracts", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .testTarget(
            name: "ReportingTests", dependencies: [
                "Reporting", "ServiceKit", "Kafka", "Messaging", "Postgres", "Contracts", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .testTarget(
            name: "CalendarTests", dependencies: [
                "CalendarService", "Events", "ServiceKit", "Kafka", "Messaging", "Postgres", "Contracts", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .testTarget(
            name: "RecoveryTests", dependencies: [
                "Attributes", "Events", "ServiceKit", "Kafka", "Messaging", "Postgres", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .testTarget(
            name: "BenchTests", dependencies: [
                "crm-bench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),
        .testTarget(
            name: "ServiceKitTests", dependencies: [
                "ServiceKit", "Contracts", "TestSupport", "Messaging", "Postgres",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
    ]
)
