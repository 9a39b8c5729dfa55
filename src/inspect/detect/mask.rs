//! Masking for the audit trail: the form of a value that lets an operator
//! recognise it without being able to use it (`A12****(3)`, `4111********1111`).

use crate::inspect::Class;

/// The audit form of a value: enough to recognise, never enough to use.
pub(crate) fn mask(class: Class, v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    let n = s.chars().count();
    let head = |k: usize| s.chars().take(k).collect::<String>();
    let tail = |k: usize| s.chars().skip(n.saturating_sub(k)).collect::<String>();
    let stars = |k: usize| "*".repeat(k);
    match class {
        Class::HkId if n >= 8 => {
            let letters = v.iter().take_while(|b| b.is_ascii_uppercase()).count();
            format!("{}****({})", head(letters + 2), tail(1))
        }
        Class::MacauId if n == 8 => format!("{}****({})", head(3), tail(1)),
        Class::PaymentCard | Class::Iban if n > 8 => {
            format!("{}{}{}", head(4), stars(n - 8), tail(4))
        }
        Class::Phone => {
            let (cc, d) = ["+853", "+852", "+86"]
                .iter()
                .find_map(|cc| s.strip_prefix(cc).map(|d| (*cc, d)))
                .unwrap_or(("", &s));
            let part = |r: std::ops::Range<usize>| d.get(r).unwrap_or("");
            let body = match d.len() {
                8 => format!("{}*** **{}", part(0..1), part(6..8)),
                11 => format!("{} **** **{}", part(0..3), part(9..11)),
                k => stars(k),
            };
            if cc.is_empty() {
                body
            } else {
                format!("{cc} {body}")
            }
        }
        Class::Email => match s.split_once('@') {
            Some((_, domain)) => format!("****@{domain}"),
            None => stars(n),
        },
        Class::PrcId if n == 18 => format!("{}{}{}", head(4), stars(12), tail(2)),
        _ if n > 6 => format!("{}{}{}", head(2), stars(n - 4), tail(2)),
        _ => stars(n),
    }
}
