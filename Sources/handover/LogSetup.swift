import Foundation
import HandoverServer
import Logging

/// The only place the global logging system is bootstrapped.
enum LogSetup {
    static func bootstrap(format: ServeConfiguration.LogFormat, level: String) {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
    }
}
