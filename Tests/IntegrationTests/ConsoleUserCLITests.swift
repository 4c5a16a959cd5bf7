import Foundation
import HandoverCore
import HandoverTestSupport
import Testing

/// `handover console user create|list|disable` against a real store file: the one-time password and
/// TOTP URI as the last two lines, scope checked before anything is stored, no secret in `list`.
@Suite("Console users on the command line")
struct ConsoleUserCLITests {
    @Test func createListAndDisable() throws {
        let (folder, _) = try TestBroker.folderWithRoutes("console-cli")
        let database = "sqlite:" + folder.appendingPathComponent("h.sqlite").path
        let create = try HandoverCommand.run(
            [
                "console", "user", "create", "--email", "Sam.Patel@Riverside.gov.uk", "--name", "Sam Patel", "--role", "practitioner",
                "--mailbox", "LA713SAFE", "--database", database,
            ], includeErrors: false)
        #expect(create.status == 0)
        let lines = create.output.split(separator: "\n").map(String.init)
        let (password, uri) = (try #require(lines.dropLast().last), try #require(lines.last))
        #expect(password.count == 16 && uri.hasPrefix("otpauth://totp/Handover:sam.patel@riverside.gov.uk?secret="))
        let secret = try #require(uri.split(separator: "secret=").last?.split(separator: "&").first.flatMap { Base32.decode(String($0)) })
        #expect(secret.count == 20)

        let duplicate = try HandoverCommand.run(
            [
                "console", "user", "create", "--email", "sam.patel@riverside.gov.uk", "--name", "Sam", "--role", "viewer", "--organisation", "713",
                "--database", database,
            ])
        #expect(duplicate.status != 0 && duplicate.output.contains("already exists"))
        let unscoped = try HandoverCommand.run(
            ["console", "user", "create", "--email", "op@riverside.gov.uk", "--name", "Op", "--role", "operator", "--database", database])
        #expect(unscoped.status != 0 && unscoped.output.contains("--organisation"))
        let unknownRole = try HandoverCommand.run(
            ["console", "user", "create", "--email", "x@riverside.gov.uk", "--name", "X", "--role", "root", "--database", database])
        #expect(unknownRole.status != 0 && unknownRole.output.contains("unknown role"))

        let list = try HandoverCommand.run(["console", "user", "list", "--database", database])
        #expect(list.status == 0 && list.output.contains("new\tpractitioner\tsam.patel@riverside.gov.uk\tSam Patel\t\tLA713SAFE"))
        #expect(!list.output.contains(password) && !list.output.contains("otpauth"))
        #expect(try HandoverCommand.run(["console", "user", "disable", "--email", "SAM.PATEL@riverside.gov.uk", "--database", database]).status == 0)
        #expect(try HandoverCommand.run(["console", "user", "list", "--database", database]).output.contains("disabled\tpractitioner"))
        #expect(try HandoverCommand.run(["console", "user", "disable", "--email", "sam.patel@riverside.gov.uk", "--database", database]).status != 0)
        try? FileManager.default.removeItem(at: folder)
    }
}
