#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Calendar arithmetic for UTC timestamps without Calendar or DateFormatter (the product links
/// FoundationEssentials only): Howard Hinnant's days-from-civil algorithms on the proleptic Gregorian
/// calendar. Every date is clamped to the years 1...9999 before it is converted, so that no `Date`, however
/// absurd (an `expiresAt` of 1e300), can trap an integer conversion: libFuzzer found that crash once.
public enum CivilDate {
    public struct Components: Sendable, Hashable {
        public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
        /// Microseconds within the second (0...999_999).
        public var microsecond: Int

        public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, microsecond: Int = 0) {
            self.year = year
            self.month = month
            self.day = day
            self.hour = hour
            self.minute = minute
            self.second = second
            self.microsecond = microsecond
        }

        /// Month 1-12, day 1-31, hour 0-23, minute 0-59, second 0-60 (a leap second is accepted as written).
        public var isValid: Bool {
            (1...12).contains(month) && (1...31).contains(day) && (0...23).contains(hour) && (0...59).contains(minute)
                && (0...60).contains(second)
        }
    }

    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z as seconds since 1970.
    public static let earliest: Double = -62_135_596_800
    public static let latest: Double = 253_402_300_799

    /// Days since 1970-01-01 of a civil date.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day counted from 1970-01-01.
    public static func date(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The UTC components of a date, clamped to the years 1...9999.
    public static func components(_ date: Date) -> Components {
        let clamped = min(max(date.timeIntervalSince1970, earliest), latest)
        let totalMicros = Int64((clamped * 1_000_000).rounded(.down))
        var seconds = totalMicros / 1_000_000
        var micros = totalMicros % 1_000_000
        if micros < 0 {
            micros += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = Self.date(days: Int(days))
        return Components(
            year: year, month: month, day: day, hour: Int(secondOfDay / 3600), minute: Int(secondOfDay / 60 % 60),
            second: Int(secondOfDay % 60), microsecond: Int(micros)
        )
    }

    /// The date of UTC components (plus `fraction` of a second), without validating them.
    public static func date(_ c: Components, fraction: Double = 0) -> Date {
        let seconds = days(year: c.year, month: c.month, day: c.day) * 86_400 + c.hour * 3600 + c.minute * 60 + c.second
        return Date(timeIntervalSince1970: Double(seconds) + Double(c.microsecond) / 1e6 + fraction)
    }

    /// RFC 3339 in UTC: `2006-01-02T15:04:05Z`, with `fractionDigits` (0, 3 or 6) digits of the second.
    public static func rfc3339(_ date: Date, fractionDigits: Int = 0) -> String {
        let c = components(date)
        var text = pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2) + "T"
        text += pad(c.hour, 2) + ":" + pad(c.minute, 2) + ":" + pad(c.second, 2)
        switch fractionDigits {
        case 3: text += "." + pad(c.microsecond / 1000, 3)
        case 6: text += "." + pad(c.microsecond, 6)
        default: break
        }
        return text + "Z"
    }

    /// `20150830T123600Z` (AWS's `X-Amz-Date`).
    public static func compact(_ date: Date) -> String {
        let c = components(date)
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "T" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2) + "Z"
    }

    /// Zero-padded decimal.
    public static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
