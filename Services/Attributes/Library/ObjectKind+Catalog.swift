import Contracts

extension ObjectKind {
    /// The catalog this kind names, nil for events and orders (known from their topics).
    var catalog: Catalog? { Catalog.all.first { $0.kind == self } }

    /// Kinds a `reference` attribute may point to.
    static var catalogKinds: [ObjectKind] { Catalog.all.map(\.kind) }
}
