import CalendarService

// crm-calendar: configuration from CRM_* variables (see README); runs until SIGTERM/SIGINT.
let (application, _) = try await CalendarService.makeApplication()
try await application.run()
