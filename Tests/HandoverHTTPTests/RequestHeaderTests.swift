import HTTPTypes
import Hummingbird
import Testing

@testable import HandoverHTTP

/// `header(_:)` answers as `HTTPFields` does, and `headerValues()` (one pass, for the send) as `header(_:)`.
@Suite("Request headers read in one pass")
struct RequestHeaderTests {
    @Test func everyNameReadsAsHeaderReadsIt() throws {
        var fields = HTTPFields()
        for (name, value) in [
            ("Mex-To", "X26OT001"), ("mex-subject", "first"), ("MEX-SUBJECT", "second"), ("Cookie", "a=1"), ("cookie", "b=2"),
            ("Content-Type", "text/plain"), ("mex-localid", ""),
        ] {
            fields.append(HTTPField(name: try #require(HTTPField.Name(name)), value: value))
        }
        let request = Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/", headerFields: fields),
            body: RequestBody(buffer: .init()))
        let values = request.headerValues()
        #expect(values["mex-subject"] == "first, second")
        #expect(values["cookie"] == "a=1; b=2")
        #expect(values["mex-localid"] == "")
        #expect(values["mex-to"] == "X26OT001" && values["Mex-To"] == nil)
        #expect(values["mex-workflowid"] == nil)
        for name in ["mex-to", "mex-subject", "cookie", "content-type", "mex-localid", "mex-workflowid"] {
            #expect(values[name] == request.header(name), "\(name)")
            #expect(request.header(name) == request.headers[try #require(HTTPField.Name(name))], "\(name) as HTTPFields reads it")
        }
    }
}
