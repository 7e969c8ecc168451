#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `/_test/` surface for scripts (authenticated with the admin token); see README.md.
extension KubeAPI {
    func handleAdmin(_ segments: [String], _ request: HTTPRequestData) -> HTTPReply {
        guard request.header("Authorization") == "Bearer \(adminToken)" else { return .status(.unauthorized) }
        let query = QueryParameters(request.query)
        do {
            switch (request.method, segments) {
            case ("POST", ["faults"]):
                faults.add(try JSONDecoder().decode(FaultRule.self, from: Data(request.body)))
                return .json(201, ["status": "Success"])
            case ("DELETE", ["faults"]):
                faults.clear()
                return .json(200, ["status": "Success"])
            case ("POST", ["throttle"]):
                seats.configure(try JSONDecoder().decode(ThrottleConfiguration.self, from: Data(request.body)))
                return .json(201, ["status": "Success"])
            case ("DELETE", ["throttle"]):
                seats.configure(nil)
                return .json(200, ["status": "Success"])
            case ("POST", ["close-watches"]):
                store.endAllWatches(abort: query.flag("drop"))
                return .json(200, ["status": "Success"])
            case ("GET", ["watches"]):
                return .json(200, ["open": .number(Double(store.openWatchCount))])
            case ("GET", ["requests"]):
                return .json(200, Array(try JSONEncoder().encode(log.all)))
            case ("DELETE", ["requests"]):
                log.reset()
                return .json(200, ["status": "Success"])
            case ("POST", ["users"]):
                users.add(try JSONDecoder().decode(TestUser.self, from: Data(request.body)))
                return .json(201, ["status": "Success"])
            case ("DELETE", ["tokens"]):
                guard let token = query["token"] else { return .status(.badRequest("token is required")) }
                users.removeToken(token)
                return .json(200, ["status": "Success"])
            case ("POST", ["namespaces"]):
                let count = Int(query["count"] ?? "1") ?? 1
                let prefix = query["prefix"] ?? "ns-"
                var labels: [String: String] = [:]
                if let text = query["labels"] {
                    for pair in text.split(separator: ",") {
                        let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                        if parts.count == 2 { labels[parts[0]] = parts[1] }
                    }
                }
                for index in 0..<max(0, count) { createNamespace("\(prefix)\(index)", labels: labels) }
                return .json(201, ["status": "Success", "created": .number(Double(count))])
            default:
                return .status(.pathNotFound())
            }
        } catch let error as APIStatus {
            return .status(error)
        } catch {
            return .status(.badRequest("\(error)"))
        }
    }
}
