/// Cuts a batch into runs of consecutive elements of one kind, in batch order. A set-based
/// handler whose kinds of message affect each other (a rename and the entries showing the
/// name) applies each run set-based and the runs in order, so the outcome is the one of
/// applying the messages one at a time.
extension Array {
    public func consecutiveRuns<Kind: Equatable>(by kind: (Element) -> Kind) -> [(kind: Kind, elements: [Element])] {
        var runs: [(kind: Kind, elements: [Element])] = []
        for element in self {
            let elementKind = kind(element)
            if let last = runs.indices.last, runs[last].kind == elementKind {
                runs[last].elements.append(element)
            } else {
                runs.append((elementKind, [element]))
            }
        }
        return runs
    }
}
