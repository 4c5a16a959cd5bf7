import Foundation
import Hummingbird

/// The API reference (`docs/openapi.yaml`), shipped as a SwiftPM resource and served at
/// `GET /openapi.yaml`. Looked up beside the executable by hand rather than through `Bundle.module`,
/// whose accessor traps when the bundle is missing (a binary copied without it must still serve).
public enum OpenAPIDocument {
    static let bundleName = "handover_HandoverHTTP.resources"

    public static let text: String? = {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [executable, executable.deletingLastPathComponent().appendingPathComponent("share/handover")]
        for folder in candidates {
            let url = folder.appendingPathComponent(bundleName).appendingPathComponent("openapi.yaml")
            if let text = try? String(contentsOf: url, encoding: .utf8) { return text }
        }
        return nil
    }()

    static func response() throws -> Response {
        guard let text else { throw HTTPError(.notFound, message: "the API reference is not installed beside this binary") }
        var headers = HTTPFields()
        headers[.contentType] = "application/yaml"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
