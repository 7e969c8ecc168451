#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// Kubernetes timestamps: `Time` is RFC 3339 in UTC with whole seconds (`2006-01-02T15:04:05Z`),
/// `MicroTime` adds six fractional digits (`2006-01-02T15:04:05.000000Z`). On the shared civil-date
/// arithmetic (`CommonBasics.CivilDate`) to stay within FoundationEssentials and to be cheap.
public enum KubeTime {
    public static func time(_ date: Date) -> String { format(date, microseconds: false) }
    public static func microTime(_ date: Date) -> String { format(date, microseconds: true) }

    static func format(_ date: Date, microseconds: Bool) -> String {
        CivilDate.rfc3339(date, fractionDigits: microseconds ? 6 : 0)
    }

    /// Parses RFC 3339 (`Z` or `±hh:mm` offsets, any number of fractional digits).
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), bytes[4] == 45, let month = number(5..<7), bytes[7] == 45, let day = number(8..<10),
            bytes[10] == 84 || bytes[10] == 116 || bytes[10] == 32, let hour = number(11..<13), bytes[13] == 58,
            let minute = number(14..<16), bytes[16] == 58, let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if bytes[index] == 46 {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < bytes.count else { return nil }
        var offset: Int64 = 0
        switch bytes[index] {
        case 90, 122:
            guard index + 1 == bytes.count else { return nil }
        case 43, 45:
            guard index + 6 == bytes.count, let hours = number(index + 1..<index + 3), bytes[index + 3] == 58,
                let minutes = number(index + 4..<index + 6)
            else { return nil }
            offset = (hours * 3600 + minutes * 60) * (bytes[index] == 45 ? -1 : 1)
        default:
            return nil
        }
        let days = Int64(CivilDate.days(year: Int(year), month: Int(month), day: Int(day)))
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
