import Contracts
import Hummingbird

// The attribute types, definitions, sets, tabs and values are the payloads of
// `crm.attribute-sets.v1` and `crm.attribute-values.v1`, defined once in Contracts; the HTTP
// API answers with the same shapes.
extension AttributeDefinition: ResponseEncodable {}
