/// PostgreSQL's text form of one-dimensional arrays: `{"a","b c",NULL}`.
enum PostgresArrayLiteral {
    static func encode(_ elements: [String]) -> String {
        let quoted = elements.map { element -> String in
            var escaped = "\""
            for character in element {
                if character == "\"" || character == "\\" { escaped.append("\\") }
                escaped.append(character)
            }
            return escaped + "\""
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }

    /// Returns nil when the text is not an array literal.
    static func parse(_ text: String) -> [String?]? {
        var characters = Substring(text)
        // A literal may start with explicit bounds, e.g. `[0:1]={…}`.
        if characters.first == "[", let equals = characters.firstIndex(of: "=") {
            characters = characters[characters.index(after: equals)...]
        }
        guard characters.first == "{", characters.last == "}" else { return nil }
        let body = characters.dropFirst().dropLast()
        if body.isEmpty { return [] }

        var elements: [String?] = []
        var current = ""
        var inQuotes = false
        var wasQuoted = false
        var escaping = false
        for character in body {
            if escaping {
                current.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == "\"" {
                inQuotes.toggle()
                wasQuoted = true
            } else if character == "," && !inQuotes {
                elements.append(wasQuoted || current != "NULL" ? current : nil)
                current = ""
                wasQuoted = false
            } else {
                current.append(character)
            }
        }
        elements.append(wasQuoted || current != "NULL" ? current : nil)
        return elements
    }
}
