/// Python's `str.isspace()`: the characters that `str.split()` and `str.rstrip()` with no argument treat as
/// whitespace. Both reference implementations split this way, so matching them means matching this set
/// exactly (it is wider than ASCII: NEL, NBSP, the U+2000 spaces, line/paragraph separators, ...).
@inline(__always)
func isPythonWhitespace(_ scalar: UInt32) -> Bool {
    switch scalar {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}

/// Calls `body` with the start and end of each run of non-whitespace in `scalars` (Python's `str.split()`).
@inline(__always)
func forEachPythonWord(in scalars: [UInt32], _ body: (Int, Int) -> Void) {
    var start = -1
    for index in scalars.indices {
        if isPythonWhitespace(scalars[index]) {
            if start >= 0 { body(start, index); start = -1 }
        } else if start < 0 {
            start = index
        }
    }
    if start >= 0 { body(start, scalars.count) }
}
