import Contracts
import Foundation
import Postgres
import ServiceKit

/// The documented maxima of an order (DESIGN rule 9), checked at write time with a 422.
enum OrderLimits {
    /// `comment`, in UTF-8 bytes (4 KiB).
    static let commentBytes = 4096
    /// A line's `description`, in UTF-8 bytes (1 KiB).
    static let descriptionBytes = 1024
    /// Lines per order.
    static let lines = SizeBudget.orderLines
    /// An order's total (and so each amount) stays below 10^20: at most 20 digits before the
    /// point, like every decimal the API takes and what consumers of `crm.documents.v1` accept.
    static let totalBound = "100000000000000000000"
}

/// One line as the client wrote it; nil members were omitted (and may get defaults).
struct LineDraft: Sendable, Equatable {
    var productId: UUID?
    var description: String?
    var quantity: String?
    var price: String?
    var discountPercent: String?
}

/// The writable members of an order taken from a JSON body. `provided` names the header members
/// present in the body (with any value, `null` included), so that omitted ones can come from a
/// basis and a PATCH changes only what it names.
struct OrderDraft: Sendable {
    var counterpartyId: UUID?
    var contactId: UUID?
    var dealId: UUID?
    var projectId: UUID?
    var responsibleId: UUID?
    var date: String?
    var currency: String?
    var comment: String?
    var basis: Basis?
    var lines: [LineDraft]?
    var provided: Set<String> = []

    static let headerMembers = [
        "counterpartyId", "contactId", "dealId", "projectId", "responsibleId", "date", "currency", "comment", "basis", "lines",
    ]
    /// Server-set members a client may echo back; ignored.
    static let serverMembers: Set<String> = [
        "id", "kind", "number", "state", "total", "authorId", "createdAt", "updatedAt", "confirmedAt", "completedAt",
        "cancelledAt", "deleted", "version",
    ]

    /// Reads `body`, appending an error for every member of the wrong type or form.
    init(_ body: [String: JSONValue], errors: inout [FieldError]) {
        for name in body.keys.sorted() where !Self.headerMembers.contains(name) && !Self.serverMembers.contains(name) {
            errors.append(FieldError(field: name, message: "is not a member of an order"))
        }
        for name in Self.headerMembers where body[name] != nil { provided.insert(name) }

        func string(_ value: JSONValue?, _ field: String) -> String? {
            guard let value, !value.isNull else { return nil }
            guard let text = value.stringValue else {
                errors.append(FieldError(field: field, message: "must be a string"))
                return nil
            }
            // (NUL characters never get here: the request decoder refuses them with a 422.)
            return text
        }
        func id(_ value: JSONValue?, _ field: String) -> UUID? {
            guard let text = string(value, field) else { return nil }
            guard let id = UUID(uuidString: text) else {
                errors.append(FieldError(field: field, message: "must be a UUID"))
                return nil
            }
            return id
        }
        func decimal(_ value: JSONValue?, _ field: String) -> String? {
            guard let value, !value.isNull else { return nil }
            guard let text = value.stringValue else {
                errors.append(FieldError(field: field, message: DecimalText.message(.notAString)))
                return nil
            }
            return text
        }

        counterpartyId = id(body["counterpartyId"], "counterpartyId")
        contactId = id(body["contactId"], "contactId")
        dealId = id(body["dealId"], "dealId")
        projectId = id(body["projectId"], "projectId")
        responsibleId = id(body["responsibleId"], "responsibleId")
        date = string(body["date"], "date")
        currency = string(body["currency"], "currency")
        comment = string(body["comment"], "comment")
        if let value = body["basis"], !value.isNull {
            if let object = value.objectValue, let kind = object["kind"]?.stringValue, Basis.kinds.contains(kind),
               let text = object["id"]?.stringValue, let basisID = UUID(uuidString: text),
               object.keys.allSatisfy({ $0 == "kind" || $0 == "id" }) {
                basis = Basis(kind: kind, id: basisID)
            } else {
                errors.append(FieldError(
                    field: "basis", message: "must be {\"kind\":\"event|customer-order|supplier-order\",\"id\":\"<uuid>\"}"))
            }
        }
        if let value = body["lines"], !value.isNull {
            guard let array = value.arrayValue else {
                errors.append(FieldError(field: "lines", message: "must be an array of lines"))
                return
            }
            guard array.count <= OrderLimits.lines else {
                SizeBudget.check(count: array.count, field: "lines", maxItems: OrderLimits.lines, errors: &errors)
                return
            }
            var lines: [LineDraft] = []
            for (index, element) in array.enumerated() {
                let prefix = "lines[\(index)]"
                guard let line = element.objectValue else {
                    errors.append(FieldError(field: prefix, message: "must be an object"))
                    continue
                }
                for name in line.keys.sorted()
                where !["productId", "description", "quantity", "price", "discountPercent", "amount"].contains(name) {
                    errors.append(FieldError(field: "\(prefix).\(name)", message: "is not a member of an order line"))
                }
                lines.append(LineDraft(
                    productId: id(line["productId"], "\(prefix).productId"),
                    description: string(line["description"], "\(prefix).description"),
                    quantity: decimal(line["quantity"], "\(prefix).quantity"),
                    price: decimal(line["price"], "\(prefix).price"),
                    discountPercent: decimal(line["discountPercent"], "\(prefix).discountPercent")))
            }
            self.lines = lines
        } else if body["lines"] != nil {
            lines = []
        }
    }
}

/// An order's header and lines with every default applied, ready to be checked and stored.
struct ResolvedOrder: Sendable {
    var counterpartyId: UUID?
    var contactId: UUID?
    var dealId: UUID?
    var projectId: UUID?
    var responsibleId: UUID?
    /// nil: today (UTC).
    var date: String?
    var currency: String
    var comment: String?
    var basis: Basis?
    var lines: [LineDraft]

    init(currency: String) {
        self.currency = currency
        lines = []
    }

    init(_ order: Order) {
        counterpartyId = order.counterpartyId
        contactId = order.contactId
        dealId = order.dealId
        projectId = order.projectId
        responsibleId = order.responsibleId
        date = order.date
        currency = order.currency
        comment = order.comment
        basis = order.basis
        lines = order.lines.map {
            LineDraft(productId: $0.productId, description: $0.description, quantity: $0.quantity, price: $0.price,
                      discountPercent: $0.discountPercent)
        }
    }

    /// Takes the members the draft provides (a provided `null` clears).
    mutating func apply(_ draft: OrderDraft) {
        let given = draft.provided
        if given.contains("counterpartyId") { counterpartyId = draft.counterpartyId }
        if given.contains("contactId") { contactId = draft.contactId }
        if given.contains("dealId") { dealId = draft.dealId }
        if given.contains("projectId") { projectId = draft.projectId }
        if given.contains("responsibleId") { responsibleId = draft.responsibleId }
        if given.contains("date") { date = draft.date }
        if given.contains("currency"), let currency = draft.currency { self.currency = currency }
        if given.contains("comment") { comment = draft.comment }
        if let lines = draft.lines { self.lines = lines }
    }

    /// Fills the line defaults from the products projection (description: the product's name;
    /// price: the product's price), then checks every member; appends one error per bad field.
    /// `checkReferences` names the header members whose references are checked (all on create,
    /// the changed ones on PATCH, so an order whose deal was deleted since stays editable).
    mutating func resolveAndValidate(
        checkReferences: Set<String>, checkLines: Bool, errors: inout [FieldError], in transaction: PostgresTransaction
    ) async throws {
        func has(_ field: String) -> Bool { errors.contains { $0.field == field } }

        if counterpartyId == nil && !has("counterpartyId") {
            errors.append(FieldError(field: "counterpartyId", message: "is required"))
        }
        if !has("currency"), currency.utf8.count != 3 || !currency.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) {
            errors.append(FieldError(field: "currency", message: "must be an ISO 4217 code of three capital letters"))
        }
        if let date, !has("date"), !CalendarDate.isValid(date) {
            errors.append(FieldError(field: "date", message: "must be a date YYYY-MM-DD"))
        }
        SizeBudget.check(comment, field: "comment", maxBytes: OrderLimits.commentBytes, errors: &errors)

        let references: [(field: String, table: String, noun: String, id: UUID?)] = [
            ("counterpartyId", "counterparties", "counterparty", counterpartyId), ("contactId", "contacts", "contact", contactId),
            ("dealId", "deals", "deal", dealId), ("projectId", "projects", "project", projectId),
            ("responsibleId", "employees", "employee", responsibleId),
        ]
        for reference in references where checkReferences.contains(reference.field) && !has(reference.field) {
            guard let id = reference.id else { continue }
            if try await transaction.query("SELECT 1 FROM \(identifier: reference.table) WHERE id = \(id) AND NOT deleted").isEmpty {
                errors.append(FieldError(field: reference.field, message: "refers to no existing \(reference.noun)"))
            }
        }
        if let contactId, let counterpartyId, checkReferences.contains("contactId") || checkReferences.contains("counterpartyId"),
           !has("contactId"), !has("counterpartyId") {
            let owner = try await transaction.query("SELECT counterparty_id FROM contacts WHERE id = \(contactId)")
                .first?.decodeIfPresent("counterparty_id", as: UUID.self)
            if owner != counterpartyId {
                errors.append(FieldError(field: "contactId", message: "is not a contact of the counterparty"))
            }
        }

        guard checkLines, !has("lines") else { return }
        if lines.isEmpty {
            errors.append(FieldError(field: "lines", message: "must have at least one line"))
        }
        for index in lines.indices {
            try await resolveLine(index, errors: &errors, in: transaction)
        }
    }

    private mutating func resolveLine(_ index: Int, errors: inout [FieldError], in transaction: PostgresTransaction) async throws {
        let prefix = "lines[\(index)]"
        func has(_ member: String) -> Bool { errors.contains { $0.field == "\(prefix).\(member)" } }
        var line = lines[index]
        if let productId = line.productId, !has("productId") {
            let rows = try await transaction.query("""
                SELECT name, price::text AS price, currency FROM products WHERE id = \(productId) AND NOT deleted
                """)
            if let product = rows.first {
                if line.description == nil { line.description = try product.decode("name") }
                // The product's price is a default only in the order's currency: a price in
                // another currency is never taken over as if it were this one.
                let productCurrency = try product.decodeIfPresent("currency", as: String.self)
                if line.price == nil, !has("price"), productCurrency == nil || productCurrency == currency {
                    line.price = try product.decodeIfPresent("price")
                }
            } else {
                errors.append(FieldError(field: "\(prefix).productId", message: "refers to no existing product"))
            }
        }
        if !has("description") {
            if let description = line.description {
                SizeBudget.check(description, field: "\(prefix).description", maxBytes: OrderLimits.descriptionBytes, errors: &errors)
            } else if line.productId == nil {
                errors.append(FieldError(field: "\(prefix).description", message: "is required for a line without a product"))
            }
        }
        func check(_ member: String, _ text: String?, required: Bool, _ rule: (DecimalText.Value) -> String?) {
            guard !has(member) else { return }
            guard let text else {
                if required { errors.append(FieldError(field: "\(prefix).\(member)", message: "is required")) }
                return
            }
            switch DecimalText.parse(text) {
            case .failure(let failure):
                errors.append(FieldError(field: "\(prefix).\(member)", message: DecimalText.message(failure)))
            case .success(let value):
                if let message = rule(value) { errors.append(FieldError(field: "\(prefix).\(member)", message: message)) }
            }
        }
        check("quantity", line.quantity, required: true) { $0.isNegative || $0.isZero ? "must be greater than 0" : nil }
        check("price", line.price, required: !has("productId")) { $0.isNegative ? "must not be negative" : nil }
        check("discountPercent", line.discountPercent, required: false) {
            $0.isNegative || $0.decimal > 100 ? "must be from 0 to 100" : nil
        }
        if line.discountPercent == nil { line.discountPercent = "0" }
        lines[index] = line
    }
}

/// Calendar dates `YYYY-MM-DD` (proleptic Gregorian, years 1–9999).
enum CalendarDate {
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard bytes[index] >= 48, bytes[index] <= 57 else { return nil }
                value = value * 10 + Int(bytes[index] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), year >= 1,
              (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }
}
