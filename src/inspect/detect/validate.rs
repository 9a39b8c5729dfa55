//! Check digits and plausibility tests for identifiers: pure functions over
//! normalised ASCII (separators removed, letters upper-case). No context, no I/O.

/// A calendar day, used for "a birth date not in the future".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

fn digit(b: u8) -> Option<u32> {
    b.is_ascii_digit().then(|| u32::from(b - b'0'))
}

fn all_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

pub(crate) fn number(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 {
        return None;
    }
    s.iter()
        .try_fold(0u32, |acc, &b| digit(b).map(|d| acc * 10 + d))
}

/// HKID: `[A-Z]{1,2}\d{6}[0-9A]`, mod 11 with weights 9..2 over 8 positions; a
/// one-letter id is padded on the left with a space worth 36, A=10 … Z=35.
pub fn hkid(s: &[u8]) -> bool {
    let letters = s.iter().take_while(|b| b.is_ascii_uppercase()).count();
    if !(1..=2).contains(&letters) || s.len() != letters + 7 {
        return false;
    }
    let (body, check) = s.split_at(s.len() - 1);
    if !all_digits(&body[letters..]) {
        return false;
    }
    let mut values = [36u32; 8];
    let pad = 2 - letters;
    for (i, &b) in body.iter().enumerate() {
        let Some(slot) = values.get_mut(pad + i) else {
            return false;
        };
        *slot = if b.is_ascii_uppercase() {
            u32::from(b - b'A') + 10
        } else {
            u32::from(b - b'0')
        };
    }
    let sum: u32 = values
        .iter()
        .zip((2..=9u32).rev())
        .map(|(v, w)| v * w)
        .sum();
    let expected = (11 - sum % 11) % 11;
    match check {
        [b'A'] => expected == 10,
        [c] => digit(*c) == Some(expected),
        _ => false,
    }
}

/// GB 11643 / ISO 7064 MOD 11-2 check character of the first 17 digits.
pub fn prc_check_char(first17: &[u8]) -> Option<u8> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (&b, w) in first17.iter().zip(WEIGHTS) {
        sum += digit(b)? * w;
    }
    CHECK.get((sum % 11) as usize).copied()
}

/// Province-level prefixes of GB/T 2260, plus 81/82/83 for the residence permits
/// of Hong Kong, Macau and Taiwan residents (exactly 810000/820000/830000).
fn prc_region_ok(p: &[u8]) -> bool {
    let Some(code) = p.get(..2).and_then(number) else {
        return false;
    };
    match code {
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 => {
            // County-level part: a real code never has "00" as its prefecture.
            p.get(2..4) != Some(b"00".as_slice()) || p.get(4..6) != Some(b"00".as_slice())
        }
        81..=83 => p.get(2..6) == Some(b"0000".as_slice()),
        _ => false,
    }
}

pub fn is_real_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// An 18-character PRC resident id (or HK/Macau/Taiwan residence permit).
pub fn prc_id(s: &[u8], today: Day) -> bool {
    if s.len() != 18 || !prc_region_ok(s) {
        return false;
    }
    let (first17, check) = s.split_at(17);
    let (Some(y), Some(m), Some(d)) = (
        s.get(6..10).and_then(number),
        s.get(10..12).and_then(number),
        s.get(12..14).and_then(number),
    ) else {
        return false;
    };
    if y < 1900 || !is_real_date(y, m, d) {
        return false;
    }
    let born = Day {
        year: y as u16,
        month: m as u8,
        day: d as u8,
    };
    born <= today && prc_check_char(first17) == check.first().copied()
}

/// Luhn over a digit string.
pub fn luhn(s: &[u8]) -> bool {
    if !all_digits(s) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &b) in s.iter().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// A Luhn-valid number of a length and prefix that a real issuer uses.
/// The whole card check (the detectors take its two halves apart).
#[cfg(test)]
pub fn payment_card(s: &[u8]) -> bool {
    card_issuer(s) && luhn(s)
}

/// A card number's length and an issuer's prefix for it (Visa, Mastercard,
/// Amex, UnionPay, JCB), before its check digit.
pub fn card_issuer(s: &[u8]) -> bool {
    let n = s.len();
    if !(13..=19).contains(&n) || !all_digits(s) {
        return false;
    }
    let p2 = s.get(..2).and_then(number).unwrap_or(0);
    let p4 = s.get(..4).and_then(number).unwrap_or(0);
    let issuer = match s.first() {
        Some(b'4') => matches!(n, 13 | 16 | 19),
        _ => {
            ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16
                || matches!(p2, 34 | 37) && n == 15
                || p2 == 62 && (16..=19).contains(&n)
                || (3528..=3589).contains(&p4) && (16..=19).contains(&n)
        }
    };
    issuer
}

/// ISO 13616: two letters, two check digits, BBAN; mod 97 of the rearranged
/// number is 1.
pub fn iban(s: &[u8]) -> bool {
    let n = s.len();
    if !(15..=34).contains(&n) {
        return false;
    }
    let (Some(country), Some(check)) = (s.get(..2), s.get(2..4)) else {
        return false;
    };
    if !country.iter().all(u8::is_ascii_uppercase) || !all_digits(check) {
        return false;
    }
    let mut rem = 0u32;
    for &b in s.iter().skip(4).chain(s.iter().take(4)) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return false,
        };
    }
    // Mod 97 passes one random run in 97; a registered country's length and
    // BBAN layout (digits where its banks print digits) then turn away the
    // hex of key fingerprints and hashes grouped in fours (`BA54 73A2 …`).
    rem == 1
        && std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse::<iban::Iban>().ok())
            .is_some()
}

/// ICAO 9303 check digit (weights 7, 3, 1; `<` = 0, A = 10 …).
pub fn mrz_check(field: &[u8], check: u8) -> bool {
    let mut sum = 0u32;
    for (&b, w) in field.iter().zip([7u32, 3, 1].into_iter().cycle()) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            b'<' => 0,
            _ => return false,
        };
        sum += v * w;
    }
    digit(check) == Some(sum % 10)
}

/// The second line of a TD3 (passport) machine-readable zone, 44 characters:
/// document number, birth date, expiry, optional data and the composite must all
/// carry valid check digits. Returns the document number on success.
pub fn mrz_td3_line2(s: &[u8]) -> Option<&[u8]> {
    if s.len() != 44 {
        return None;
    }
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let doc = s.get(0..9)?;
    let birth = s.get(13..19)?;
    let expiry = s.get(21..27)?;
    let optional = s.get(28..42)?;
    let ok = mrz_check(doc, at(9))
        && mrz_check(birth, at(19))
        && mrz_check(expiry, at(27))
        && mrz_check(optional, at(42))
        && matches!(at(20), b'M' | b'F' | b'<' | b'X')
        && s.get(10..13)?
            .iter()
            .all(|b| b.is_ascii_uppercase() || *b == b'<');
    let composite: Vec<u8> = [s.get(0..10)?, s.get(13..20)?, s.get(21..43)?].concat();
    (ok && mrz_check(&composite, at(43))).then_some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Day = Day {
        year: 2026,
        month: 11,
        day: 29,
    };

    /// Builds an 18-digit id from its first 17 digits with the MOD 11-2 check.
    pub(crate) fn prc_with_check(first17: &str) -> String {
        let c = prc_check_char(first17.as_bytes()).map_or('?', char::from);
        format!("{first17}{c}")
    }

    #[test]
    fn hkid_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("issue example", "A1234563", true),
            ("wrong check", "A1234564", false),
            ("too short", "A123453", false),
            ("digits only", "12345673", false),
            ("three letters", "ABC1234563", false),
        ];
        for (name, s, want) in cases {
            assert_eq!(hkid(s.as_bytes()), *want, "{name}");
        }
        // Find a valid two-letter id and a check of 'A' by brute force over the
        // check character: exactly one of the 11 is right.
        for body in ["AB987654", "Z683791", "XA123456"] {
            let valid: Vec<char> = "0123456789A"
                .chars()
                .filter(|c| hkid(format!("{body}{c}").as_bytes()))
                .collect();
            assert_eq!(valid.len(), 1, "{body}");
        }
    }

    #[test]
    fn prc_cases() {
        let built = prc_with_check("44030419900307123");
        let permit = prc_with_check("82000019851231002");
        let cases: Vec<(&str, String, bool)> = vec![
            ("published sample", "11010519491231002X".into(), true),
            ("built", built.clone(), true),
            ("macau residence permit", permit, true),
            ("wrong check", "110105194912310021".into(), false),
            ("future birth", prc_with_check("11010520990101002"), false),
            ("no such date", prc_with_check("11010519490231002"), false),
            ("bad region", prc_with_check("99010519491231002"), false),
            (
                "permit with county",
                prc_with_check("82010119851231002"),
                false,
            ),
            ("order number", "202611290000123456".into(), false),
        ];
        for (name, s, want) in cases {
            assert_eq!(prc_id(s.as_bytes(), TODAY), want, "{name}: {s}");
        }
    }

    #[test]
    fn card_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("visa", "4111111111111111", true),
            ("mastercard", "5500000000000004", true),
            ("mastercard 2-series", "2221000000000009", true),
            ("amex", "378282246310005", true),
            ("unionpay", "6212345678901232", true),
            ("jcb", "3530111333300000", true),
            ("visa bad luhn", "4111111111111112", false),
            ("luhn ok, no issuer", "1234567812345670", false),
            ("ms timestamp", "1764384000000", false),
            ("amex wrong length", "3782822463100050", false),
        ];
        for (name, s, want) in cases {
            assert_eq!(payment_card(s.as_bytes()), *want, "{name}");
        }
    }

    #[test]
    fn iban_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("gb", "GB82WEST12345698765432", true),
            ("de", "DE89370400440532013000", true),
            ("pt", "PT50000201231234567890154", true),
            ("gb wrong check", "GB83WEST12345698765432", false),
            ("gb wrong length", "GB82WEST1234569876543", false),
            ("lower-case country", "gb82WEST12345698765432", false),
            ("fr", "FR1420041010050500013M02606", true),
            ("br", "BR1800360305000010009795493C1", true),
            ("ae", "AE070331234567890123456", true),
            ("nl", "NL91ABNA0417164300", true),
            ("ba", "BA391290079401028494", true),
            // Four groups of an OpenSSL release key's fingerprint: mod 97
            // holds by chance, and no country is FB.
            ("hex fingerprint", "FB27CF2D216094DF", false),
            // Mod 97 holds, but Bosnia's BBAN is sixteen digits.
            ("letters where digits go", "BA24129007940102849A", false),
        ];
        for (name, s, want) in cases {
            assert_eq!(iban(s.as_bytes()), *want, "{name}");
        }
    }

    #[test]
    fn mrz_cases() {
        let good = b"L898902C36UTO7408122F1204159ZE184226B<<<<<10";
        assert_eq!(mrz_td3_line2(good), Some(b"L898902C3".as_slice()));
        let mut bad = *good;
        bad[9] = b'7';
        assert_eq!(mrz_td3_line2(&bad), None, "document check digit");
        let mut bad = *good;
        bad[43] = b'1';
        assert_eq!(mrz_td3_line2(&bad), None, "composite check digit");
        assert_eq!(mrz_td3_line2(&good[..43]), None, "short line");
    }
}
