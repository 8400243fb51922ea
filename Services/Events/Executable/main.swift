import Events

// crm-events: configuration from CRM_* variables (see README); runs until SIGTERM/SIGINT.
let (application, _) = try await EventsService.makeApplication()
try await application.run()
