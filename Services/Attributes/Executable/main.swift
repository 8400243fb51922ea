import Attributes

// crm-attributes: configuration from CRM_* variables (see README); runs until SIGTERM/SIGINT.
let (application, _) = try await AttributesService.makeApplication()
try await application.run()
