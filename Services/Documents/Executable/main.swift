import Documents

// crm-documents: configuration from CRM_* variables (see README); runs until SIGTERM/SIGINT.
let (application, _) = try await DocumentsService.makeApplication()
try await application.run()
