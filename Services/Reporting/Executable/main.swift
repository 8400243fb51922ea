import Reporting

// crm-reporting: configuration from CRM_* variables (see README); runs until SIGTERM/SIGINT.
let (application, _) = try await ReportingService.makeApplication()
try await application.run()
