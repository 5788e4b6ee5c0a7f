import Foundation

/// Text forms of `timestamptz` values, done by hand: Foundation's ISO-8601 formatter stops at
/// milliseconds and knows neither PostgreSQL's "+05:30:52" offsets nor BC years, and
/// PostgreSQL stores microseconds.
enum PostgresTimestamp {
    /// "2026-11-28T10:00:00.123456Z" (microseconds, UTC); years before 1 get PostgreSQL's " BC" suffix.
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (seconds, fraction) = floorDivide(micros, 1_000_000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        let isBC = year <= 0
        let hour = secondOfDay / 3600, minute = secondOfDay / 60 % 60, second = secondOfDay % 60
        var text = pad(isBC ? 1 - year : year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        text += "T" + pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2) + "." + pad(fraction, 6) + "Z"
        return isBC ? text + " BC" : text
    }

    /// Parses PostgreSQL's ISO output (DateStyle ISO, any TimeZone): "2026-11-28 10:00:00.5+05:30",
    /// also with "T"/"Z", without an offset (a `timestamp` column, read as UTC), or a bare date.
    static func parse(_ text: String) -> Date? {
        var cursor = TextCursor(Array(text.utf8))
        guard let year = cursor.number(minDigits: 4, maxDigits: 9), cursor.skip("-"),
              let month = cursor.number(minDigits: 2, maxDigits: 2), cursor.skip("-"),
              let day = cursor.number(minDigits: 2, maxDigits: 2),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var secondOfDay: Int64 = 0, micros: Int64 = 0, offsetSeconds: Int64 = 0
        if cursor.skip(" ") || cursor.skip("T") {
            guard let hour = cursor.number(minDigits: 2, maxDigits: 2), cursor.skip(":"),
                  let minute = cursor.number(minDigits: 2, maxDigits: 2), cursor.skip(":"),
                  let second = cursor.number(minDigits: 2, maxDigits: 2),
                  hour <= 24, minute < 60, second < 61
            else { return nil }
            secondOfDay = hour * 3600 + minute * 60 + second
            if cursor.skip(".") {
                guard let (fraction, digits) = cursor.fraction(maxDigits: 6) else { return nil }
                micros = fraction * power10(6 - digits)
            }
            if cursor.skip("Z") {
                offsetSeconds = 0
            } else if let sign: Int64 = cursor.skip("+") ? 1 : cursor.skip("-") ? -1 : nil {
                guard let hours = cursor.number(minDigits: 2, maxDigits: 2) else { return nil }
                var offset = hours * 3600
                if cursor.skip(":") {
                    guard let minutes = cursor.number(minDigits: 2, maxDigits: 2) else { return nil }
                    offset += minutes * 60
                    if cursor.skip(":") {
                        guard let seconds = cursor.number(minDigits: 2, maxDigits: 2) else { return nil }
                        offset += seconds
                    }
                }
                offsetSeconds = sign * offset
            }
        }
        let isBC = cursor.skip(" BC")
        guard cursor.isAtEnd else { return nil }
        let days = days(fromCivil: isBC ? 1 - year : year, month, day)
        let seconds = days * 86_400 + secondOfDay - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, day 0 = 1970-01-01),
    // the calendar PostgreSQL uses for every year.
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func power10(_ exponent: Int) -> Int64 {
        (0..<exponent).reduce(1) { result, _ in result * 10 }
    }

    private struct TextCursor {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { position == bytes.count }

        mutating func skip(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[position + offset] != literal.utf8Start[offset] { return false }
            position += count
            return true
        }

        mutating func number(minDigits: Int, maxDigits: Int) -> Int64? {
            let start = position
            var value: Int64 = 0
            while position < bytes.count, position - start < maxDigits, let digit = digit(bytes[position]) {
                value = value * 10 + digit
                position += 1
            }
            return position - start >= minDigits ? value : nil
        }

        /// Up to `maxDigits` fractional digits as an integer; further digits are ignored (PostgreSQL never
        /// prints more than 6).
        mutating func fraction(maxDigits: Int) -> (value: Int64, digits: Int)? {
            let start = position
            var value: Int64 = 0
            while position < bytes.count, let digit = digit(bytes[position]) {
                if position - start < maxDigits { value = value * 10 + digit }
                position += 1
            }
            let digits = position - start
            return digits == 0 ? nil : (value, min(digits, maxDigits))
        }

        private func digit(_ byte: UInt8) -> Int64? {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int64(byte - UInt8(ascii: "0")) : nil
        }
    }
}
