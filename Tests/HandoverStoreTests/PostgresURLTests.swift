import Foundation
import HandoverTestSupport
import Testing

@testable import HandoverPostgres

/// Database URLs: TLS modes as libpq names them, passwords kept off command lines, and redaction that
/// holds for passwords URL parsing cannot read.
@Suite("PostgreSQL URLs")
struct PostgresURLTests {
    @Test func redactionHidesPasswordsEvenWithAtSignsAndSlashes() {
        #expect(PostgresStore.redacted("postgres://handover:s3cret@db:5432/handover") == "postgres://handover:***@db:5432/handover")
        #expect(
            PostgresStore.redacted("postgres://handover:p@ss/w@rd@db/handover?sslmode=require")
                == "postgres://handover:***@db/handover?sslmode=require")
        #expect(PostgresStore.redacted("postgres://handover@db/handover") == "postgres://handover@db/handover")
    }

    @Test func theTLSModesFollowLibpq() throws {
        #expect(try PostgresURL.parse("postgres://h@db/x?sslmode=require").tlsConfiguration().certificateVerification == .none)
        let full = try PostgresURL.parse("postgres://h@db/x?sslmode=verify-full&sslrootcert=/etc/db-ca.pem")
        #expect(full.tlsConfiguration().certificateVerification == .fullVerification && full.rootCertificate == "/etc/db-ca.pem")
        #expect(
            try PostgresURL.parse("postgres://h@db/x?sslmode=verify-ca&sslrootcert=/ca.pem").tlsConfiguration().certificateVerification
                == .noHostnameVerification)
        #expect(throws: (any Error).self) { try PostgresURL.parse("postgres://h@db/x?sslmode=verify-full") }
        #expect(throws: (any Error).self) { try PostgresURL.parse("postgres://h@db/x?sslmode=allow-everything") }
    }

    @Test func thePasswordComesFromAFileOrPGPASSWORDWhenTheURLHasNone() throws {
        let file = TestFolders.path("db-password")
        try "from-the-file\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(
            try PostgresURL.parse("postgres://h@db/x", environment: ["HANDOVER_DATABASE_PASSWORD_FILE": file.path, "PGPASSWORD": "env"]).password
                == "from-the-file")
        #expect(try PostgresURL.parse("postgres://h@db/x", environment: ["PGPASSWORD": "from-env"]).password == "from-env")
        #expect(try PostgresURL.parse("postgres://h:in-url@db/x", environment: ["PGPASSWORD": "from-env"]).password == "in-url")
        #expect(throws: (any Error).self) {
            try PostgresURL.parse("postgres://h@db/x", environment: ["HANDOVER_DATABASE_PASSWORD_FILE": "/nonexistent"])
        }
    }
}
