//! The lexical side of PDF that the readers share: object headers, stream
//! starts, dictionary keys and values, names, references and integers. Each
//! is read leniently: a PDF from the wild is often a little broken.

/// The object number of the header `N G obj` whose `obj` is at `k`.
pub(super) fn header_number(buf: &[u8], k: usize) -> Option<u32> {
    let mut i = k;
    let back_over = |i: &mut usize, want: fn(&u8) -> bool| {
        let end = *i;
        while *i > 0 && buf.get(*i - 1).is_some_and(want) {
            *i -= 1;
        }
        end - *i
    };
    if back_over(&mut i, u8::is_ascii_whitespace) == 0
        || back_over(&mut i, u8::is_ascii_digit) == 0
        || back_over(&mut i, u8::is_ascii_whitespace) == 0
    {
        return None;
    }
    let end = i;
    if back_over(&mut i, u8::is_ascii_digit) == 0 {
        return None;
    }
    std::str::from_utf8(buf.get(i..end)?).ok()?.parse().ok()
}

/// Where the data of a stream whose keyword `stream` ends at `at` begins.
pub(super) fn stream_start(buf: &[u8], at: usize) -> Option<usize> {
    match buf.get(at..at + 2) {
        Some([b'\r', b'\n', ..]) => Some(at + 2),
        Some([b'\n', ..]) | Some([b'\r', ..]) => Some(at + 1),
        _ => None,
    }
}

pub(super) fn is_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace() || b"()<>[]{}/%".contains(&c)
}

pub(super) fn skip_space(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or(&[])
}

/// What follows the key `/key` in `dict` (white space skipped).
pub(super) fn value<'d>(dict: &'d [u8], key: &[u8]) -> Option<&'d [u8]> {
    let mut at = 0;
    loop {
        let p = at + memchr::memchr(b'/', dict.get(at..)?)?;
        at = p + 1;
        let end = at + key.len();
        if dict.get(at..end) == Some(key) && dict.get(end).is_none_or(|&c| is_delimiter(c)) {
            return Some(skip_space(dict.get(end..)?));
        }
    }
}

/// Whether some `/key` in `dict` is followed by the name `/name` (a nested
/// dictionary's `/Type` may come before the object's own).
pub(super) fn is_name(dict: &[u8], key: &[u8], name: &[u8]) -> bool {
    let mut rest = dict;
    while let Some(v) = value(rest, key) {
        if let Some(n) = v.strip_prefix(b"/") {
            if n.starts_with(name) && n.get(name.len()).is_none_or(|&c| is_delimiter(c)) {
                return true;
            }
        }
        rest = v;
    }
    false
}

/// `N G R` at the start of `v`.
pub(super) fn reference(v: &[u8]) -> Option<u32> {
    let mut words = v
        .split(|c| c.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let n = words.next()?;
    let g = words.next()?;
    let r = words.next()?;
    if !g.iter().all(u8::is_ascii_digit) || r.first() != Some(&b'R') {
        return None;
    }
    if r.get(1).is_some_and(|&c| !is_delimiter(c)) {
        return None;
    }
    std::str::from_utf8(n).ok()?.parse().ok()
}

/// An integer value of `/key`.
pub(super) fn int(dict: &[u8], key: &[u8]) -> Option<u64> {
    let v = value(dict, key)?;
    let n = v.iter().take_while(|c| c.is_ascii_digit()).count();
    std::str::from_utf8(v.get(..n)?).ok()?.parse().ok()
}

/// The dictionary that opens `v` (`<< … >>`, nested ones included).
pub(super) fn balanced(v: &[u8]) -> &[u8] {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = v.get(i) {
        match (c, v.get(i + 1)) {
            (b'<', Some(b'<')) => {
                depth += 1;
                i += 2;
            }
            (b'>', Some(b'>')) => {
                depth = depth.saturating_sub(1);
                i += 2;
                if depth == 0 {
                    return v.get(..i).unwrap_or(v);
                }
            }
            _ => i += 1,
        }
    }
    v
}
