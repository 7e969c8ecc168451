#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CommonBasics

/// The date formats AWS uses, on the shared civil-date arithmetic (`CommonBasics.CivilDate`).
enum UTCTime {
    struct Components: Equatable {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    }

    static func components(_ date: Date) -> Components {
        let c = CivilDate.components(date)
        return Components(year: c.year, month: c.month, day: c.day, hour: c.hour, minute: c.minute, second: c.second)
    }

    static func date(_ c: Components, fraction: Double = 0) -> Date {
        CivilDate.date(CivilDate.Components(year: c.year, month: c.month, day: c.day, hour: c.hour, minute: c.minute, second: c.second), fraction: fraction)
    }

    /// `20150830T123600Z`
    static func amzDate(_ date: Date) -> String { CivilDate.compact(date) }

    /// `2015-08-30T12:36:00Z`
    static func iso8601(_ date: Date) -> String { CivilDate.rfc3339(date) }

    /// Parses `20150830T123600Z`.
    static func parseAmzDate(_ s: String) -> Date? {
        let u = Array(s.utf8)
        guard u.count == 16, u[8] == UInt8(ascii: "T"), u[15] == UInt8(ascii: "Z") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard u[i] >= 48, u[i] <= 57 else { return nil }
                v = v * 10 + Int(u[i] - 48)
            }
            return v
        }
        guard let y = num(0..<4), let mo = num(4..<6), let d = num(6..<8), let h = num(9..<11), let mi = num(11..<13),
            let se = num(13..<15)
        else { return nil }
        let c = Components(year: y, month: mo, day: d, hour: h, minute: mi, second: se)
        guard valid(c) else { return nil }
        return date(c)
    }

    static func valid(_ c: Components) -> Bool {
        CivilDate.Components(year: c.year, month: c.month, day: c.day, hour: c.hour, minute: c.minute, second: c.second).isValid
    }

    /// Parses ISO-8601 / RFC 3339 timestamps as AWS sends them: `2015-08-30T12:36:00Z`,
    /// `2015-08-30T12:36:00.123456Z`, `2015-08-30T12:36:00+02:00`, also a space instead of `T`.
    static func parseISO8601(_ text: String) -> Date? {
        let u = Array(text.trimmingASCIIWhitespace().utf8)
        guard u.count >= 19 else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= u.count else { return nil }
            var v = 0
            for i in r {
                guard u[i] >= 48, u[i] <= 57 else { return nil }
                v = v * 10 + Int(u[i] - 48)
            }
            return v
        }
        guard u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
            u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t") || u[10] == UInt8(ascii: " "),
            u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
            let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16),
            let se = num(17..<19)
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                fraction += Double(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
            if i == start { return nil }
        }
        var offset = 0
        if i == u.count {
            offset = 0  // no zone: AWS means UTC
        } else if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            i += 1
        } else if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = num((i + 1)..<(i + 3)) else { return nil }
            var j = i + 3
            if j < u.count, u[j] == UInt8(ascii: ":") { j += 1 }
            guard let om = num(j..<(j + 2)) else { return nil }
            offset = sign * (oh * 3600 + om * 60)
            i = j + 2
        } else {
            return nil
        }
        guard i == u.count else { return nil }
        let c = Components(year: y, month: mo, day: d, hour: h, minute: mi, second: se)
        guard valid(c) else { return nil }
        return date(c, fraction: fraction).addingTimeInterval(Double(-offset))
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Parses an HTTP `Date` header (RFC 7231 IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, also the obsolete
    /// RFC 850 and asctime forms).
    static func parseHTTPDate(_ text: String) -> Date? {
        var tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map { String($0) }
        guard !tokens.isEmpty else { return nil }
        // Drop the weekday.
        if let first = tokens.first, first.first?.isLetter == true, first.count >= 3,
            !months.contains(first.prefix(3).lowercased()) || first.count > 3
        {
            if !months.contains(first.lowercased()) { tokens.removeFirst() }
        }
        var day: Int?, month: Int?, year: Int?, time: [Int]?
        for token in tokens {
            if token.contains(":") {
                let parts = token.split(separator: ":").compactMap { Int($0) }
                if parts.count == 3 { time = parts }
            } else if let m = months.firstIndex(of: token.prefix(3).lowercased()), token.first?.isLetter == true,
                token.count <= 9
            {
                month = m + 1
            } else if token.contains("-") {
                // RFC 850: 06-Nov-94
                let parts = token.split(separator: "-")
                if parts.count == 3, let d = Int(parts[0]), let m = months.firstIndex(of: parts[1].lowercased()),
                    let y = Int(parts[2])
                {
                    day = d
                    month = m + 1
                    year = y < 100 ? (y < 70 ? 2000 + y : 1900 + y) : y
                }
            } else if let v = Int(token) {
                if v > 31 { year = v } else if day == nil { day = v } else { year = v }
            }
        }
        guard let d = day, let m = month, let y = year, let t = time else { return nil }
        let c = Components(year: y, month: m, day: d, hour: t[0], minute: t[1], second: t[2])
        guard valid(c) else { return nil }
        return date(c)
    }
}
