//! Case tables for the detectors. Every case also runs at every split point
//! (two `text()` calls) and must give the same findings as one call.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;

use super::validate::prc_check_char;
use super::*;
use crate::inspect::{Class, Findings, TextSink};

const TODAY: Day = Day {
    year: 2026,
    month: 11,
    day: 29,
};

fn det() -> Arc<Detectors> {
    static D: OnceLock<Arc<Detectors>> = OnceLock::new();
    Arc::clone(D.get_or_init(|| {
        let d = Detectors::new_on(&DetectorSettings::default(), TODAY);
        Arc::new(d.unwrap_or_else(|e| panic!("shipped settings: {e:?}")))
    }))
}

fn prc(first17: &str) -> String {
    let c = prc_check_char(first17.as_bytes()).map_or('?', char::from);
    format!("{first17}{c}")
}

fn run(chunks: &[&[u8]]) -> Findings {
    let mut s = TextScan::new(det());
    for c in chunks {
        s.text(c);
    }
    let mut f = Findings::default();
    s.finish_into(&mut f);
    f
}

/// The same text through the general paths only (no word filter, no token
/// fast paths).
fn run_general(chunks: &[&[u8]]) -> Findings {
    let mut s = TextScan::general(det());
    for c in chunks {
        s.text(c);
    }
    let mut f = Findings::default();
    s.finish_into(&mut f);
    f
}

/// Each `(field, value)` in turn, as a decoder gives them (a JSON key and
/// its string, a column and its cell), then the findings.
fn under_fields<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Findings {
    let mut s = TextScan::new(det());
    for (field, value) in pairs {
        s.field(field.as_bytes());
        s.text(value.as_bytes());
        s.boundary();
    }
    let mut f = Findings::default();
    s.finish_into(&mut f);
    f
}

fn counts(f: &Findings) -> Vec<(Class, u64)> {
    f.classes.iter().map(|(c, n)| (*c, *n)).collect()
}

struct Case {
    name: &'static str,
    text: String,
    want: Vec<(Class, u64)>,
}

fn case(name: &'static str, text: impl Into<String>, want: &[(Class, u64)]) -> Case {
    Case {
        name,
        text: text.into(),
        want: want.to_vec(),
    }
}

use Class::*;

fn cases() -> Vec<Case> {
    let far = "x ".repeat(400);
    vec![
        // hk_id
        case("hkid parenthesised", "HKID A123456(3) on file", &[(HkId, 1)]),
        case("hkid bare", "A123456(3)", &[(HkId, 1)]),
        case("hkid space before check", "id A123456 (3).", &[(HkId, 1)]),
        case("hkid no parentheses", "HKID A1234563", &[(HkId, 1)]),
        case("hkid check after space", "身份證 A123456 3", &[(HkId, 1)]),
        // Without parentheses a letter and seven digits pass one time in eleven.
        case("hkid no parentheses without context", "A1234563", &[]),
        case("hkid termios constant", "pub const B4000000: u32 = 4107;", &[]),
        case("hkid full-width", "身份證：Ａ１２３４５６（３）", &[(HkId, 1), (MacauId, 0)]),
        case("hkid full-width lower", "ａ１２３４５６（３）", &[(HkId, 1)]),
        case("hkid wrong check", "A123456(4)", &[]),
        case("hkid sku with dash", "SKU A123456-3", &[]),
        case("hkid glued to letters", "refA123456(3)", &[]),
        // File names: the scan of an ID card is an image, and its name (in a
        // multipart header, a zip, DingTalk's upload JSON) is all there is
        // to read. `_` joins words in them, and an extension ends them.
        case("hkid in a file name", "陳大文_A123456(3).pdf", &[(HkId, 1)]),
        case("hkid file name with words after", "身份證_A1234563_front.JPG", &[(HkId, 1)]),
        case("prc id as a file name", "11010519491231002X.jpg", &[(PrcId, 1)]),
        case("card number as a file name", "card_4111111111111111.png", &[(PaymentCard, 1)]),
        case("phone in a file name", "電話 +853 6612 3456.pdf", &[(Phone, 1)]),
        case("hkid before a decimal part is not a file name", "A1234563.5", &[]),
        case("hkid before an unknown suffix", "身份證 A1234563.bak1", &[]),
        case("hkid after an address is glued", "mail@A1234563", &[]),
        case("hkid repeated is one value", "A123456(3), A1234563 and A123456 (3)", &[(HkId, 1)]),
        // prc_id
        case("prc published sample", "身份证号 11010519491231002X", &[(PrcId, 1)]),
        case("prc lower-case x", "11010519491231002x", &[(PrcId, 1)]),
        case("prc spaced groups", "公民身份号码 110105 19491231 002X", &[(PrcId, 1)]),
        case("prc dashed groups", "ID number 110105-19491231-002X", &[(PrcId, 1)]),
        case("prc dashed wrong check", "ID number 110105-19491231-0021", &[]),
        case("prc spaces and dashes mixed", "ID 110105-19491231 002X", &[]),
        case("prc built", prc("44030419900307123"), &[(PrcId, 1)]),
        case("prc macau residence permit", prc("82000019851231002"), &[(PrcId, 1)]),
        case("prc wrong check", "110105194912310021", &[]),
        case("prc future birth date", prc("44030420990307123"), &[]),
        case("prc order number", "order 202611290000123456 shipped", &[]),
        case("prc inside longer run", format!("9{}9", prc("44030419900307123")), &[]),
        case("prc full-width", "１１０１０５１９４９１２３１００２Ｘ", &[(PrcId, 1)]),
        // macau_id
        case("macau with BIR", "BIR: 1234567(8)", &[(MacauId, 1)]),
        case("macau chinese context", "身份證編號：5123456(7)", &[(MacauId, 1)]),
        case("macau slashes portuguese", "Bilhete de Identidade de Residente n.º 7/123456/1", &[(MacauId, 1)]),
        case("macau context after", "1234567(8) is my BIR", &[(MacauId, 1)]),
        case("macau no context", "ref 1234567(8)", &[]),
        case("macau context too far", format!("BIR {far}1234567(8)"), &[]),
        case("macau bad first digit", "BIR 3234567(8)", &[]),
        case("macau full-width", "澳門居民身份證 １２３４５６７（８）", &[(MacauId, 1)]),
        // passport
        case("passport g", "passport G12345678", &[(Passport, 1)]),
        case("passport e", "護照號碼 EA1234567", &[(Passport, 1)]),
        case("passport without context", "code G12345678", &[]),
        case(
            "passport mrz",
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n",
            &[(Passport, 1)],
        ),
        case("passport mrz bad check", "L898902C37UTO7408122F1204159ZE184226B<<<<<10", &[]),
        // travel_permit
        case("permit h8", "回鄉證 H12345678", &[(TravelPermit, 1)]),
        case("permit m10", "回乡证号码: M1234567890", &[(TravelPermit, 1)]),
        case("permit without context", "H12345678", &[]),
        // payment_card
        case("card visa", "4111111111111111", &[(PaymentCard, 1)]),
        case("card mastercard", "5500000000000004", &[(PaymentCard, 1)]),
        case("card mastercard 2-series", "2221000000000009", &[(PaymentCard, 1)]),
        case("card amex", "378282246310005", &[(PaymentCard, 1)]),
        case("card unionpay", "6212345678901232", &[(PaymentCard, 1)]),
        case("card jcb", "3530111333300000", &[(PaymentCard, 1)]),
        case("card spaced", "card 4111 1111 1111 1111 exp", &[(PaymentCard, 1)]),
        case("card dashed", "4111-1111-1111-1111", &[(PaymentCard, 1)]),
        case("card amex grouped", "3782 822463 10005", &[(PaymentCard, 1)]),
        case("card distinct", "4111 1111 1111 1111 / 4111111111111111", &[(PaymentCard, 1)]),
        case("card bad luhn", "4111111111111112", &[]),
        case("card ms timestamp", "ts=1764384000000", &[]),
        case("card in longer run", "94111111111111111", &[]),
        case("card odd grouping", "41 1111111 1111111", &[]),
        // Groups of four cut from a row of figures: tc-ets(8)'s quanta, and
        // a page of numbers in the PostScript of valgrind's manual.
        case(
            "card look-alike: row of quanta",
            "qdisc ets 1: root refcnt 2 bands 8 quanta 2650 1514 1514 1514 1514 1514 1514 1514 priomap 7 6 5",
            &[],
        ),
        case(
            "card look-alike: row of figures",
            "  4584 4615 4646 4677 4708 4740 4771 4803 4835 4867 ",
            &[],
        ),
        case("card and its expiry year", "card 4111 1111 1111 1111 2028", &[(PaymentCard, 1)]),
        // Nineteen digits in one run are 64-bit ids and hashes as often as
        // cards: they need the card's name near.
        case("card look-alike: u64 constant", "current_block = 4488286894823169796;", &[]),
        case("card unionpay 19 named", "卡號 6212345678901234569", &[(PaymentCard, 1)]),
        case("card unionpay 19 bare", "6212345678901234569", &[]),
        case("card unionpay 19 grouped", "6212 3456 7890 1234 569", &[(PaymentCard, 1)]),
        // A Gansu identity number (62…) that happens to pass Luhn is an
        // identity number, not a UnionPay card.
        case("prc gansu passing luhn", "身份證 620102199001011057", &[(PrcId, 1)]),
        case("card after one group", "no. 12 4111 1111 1111 1111", &[(PaymentCard, 1)]),
        // iban
        case("iban gb", "GB82WEST12345698765432", &[(Iban, 1)]),
        case("iban de grouped", "IBAN DE89 3704 0044 0532 0130 00 ok", &[(Iban, 1)]),
        case("iban pt", "PT50000201231234567890154", &[(Iban, 1)]),
        case("iban gb grouped", "GB82 WEST 1234 5698 7654 32", &[(Iban, 1)]),
        case("iban wrong check", "GB83WEST12345698765432", &[]),
        // A release key's fingerprint as OpenSSL lists them: four of its
        // groups (FB27 CF2D 2160 94DF) pass mod 97, and no country is FB.
        case(
            "iban look-alike: key fingerprint",
            "OpenSSL:\nBA54 73A2 B058 7B07 FB27 CF2D 2160 94DF D0CB 81EF\n",
            &[],
        ),
        // bank_account
        case("bank chinese context", "帳號 12345678901", &[(BankAccount, 1)]),
        case("bank english context", "account no. 123456789012", &[(BankAccount, 1)]),
        case("bank hk layout", "012-345-678901", &[(BankAccount, 1)]),
        case("bank without context", "ref 12345678901", &[]),
        case("bank context ms timestamp", "帳號 ts 1764384000997 1764384000", &[]),
        // phone
        case("phone macau cc", "+853 6123 4567", &[(Phone, 1)]),
        case("phone macau tight", "+85361234567", &[(Phone, 1)]),
        case("phone macau fixed parens", "(853) 2812 3456", &[(Phone, 1)]),
        case("phone hk", "+852 9123 4567", &[(Phone, 1)]),
        case("phone mainland", "+86 138 1234 5678", &[(Phone, 1)]),
        // The whole mobile number after a country code, not split in groups.
        case("phone mainland cc whole", "+86 13812345678", &[(Phone, 1)]),
        case("phone mainland cc dashed", "+86 138-1234-5678", &[(Phone, 1)]),
        case("phone mainland 0086", "0086 13812345678", &[(Phone, 1)]),
        case("phone two after codes", "+86 13812345678, +86 13912345678", &[(Phone, 2)]),
        case("phone cc then no phone", "+86 2026112012", &[]),
        case("phone context", "電話 6123 4567", &[(Phone, 1)]),
        case("phone context mainland", "tel: 13812345678", &[(Phone, 1)]),
        case("phone two with context", "Tel 61234567 62345678", &[(Phone, 2)]),
        case("phone no context", "call 61234567", &[]),
        // A date in one run, as changelogs write them, near the word "cells".
        case("phone look-alike: compact date", "of multi-cell characters. The 20030614 change", &[]),
        case("phone hk line from 20", "Tel 20301234", &[(Phone, 1)]),
        case("phone context pt short", "Móvel: 6612 3456", &[(Phone, 1)]),
        // Macau and Hong Kong say 手提 for a mobile, but 手提 alone is no
        // term: 手提電腦 is a laptop, and its serial numbers are no phones.
        case("phone context cantonese mobile", "手提號碼：6612 3456", &[(Phone, 1)]),
        case("laptop model is no phone", "手提電腦 型號 T14 序號 66123456", &[]),
        // A country code without its `+`, as chat apps export contacts.
        case("phone bare code macau", "WhatsApp 85366123456", &[(Phone, 1)]),
        case("phone bare code mainland", "手机 8613812345678", &[(Phone, 1)]),
        case("phone bare code no context", "ref 85366123456", &[]),
        case("phone bare code dashed", "853-6612-3456 mobile", &[(Phone, 1)]),
        case("phone bare code dashed once", "Tel: 853-66123456", &[(Phone, 1)]),
        case("phone bare code spaced", "電話 853 6612 3456", &[(Phone, 1)]),
        case("phone bare code dashed hk", "852-9123-4567 (whatsapp)", &[(Phone, 1)]),
        case("phone bare code dashed mainland", "手机 86-138-0013-8000", &[(Phone, 1)]),
        case("phone bare code dashed no context", "order 853-6612-3456", &[]),
        case("phone bare code dashed wrong local", "tel 853-1234-5678", &[]),
        case("phone bare code same as with plus", "tel 853-6612-3456, +853 6612 3456", &[(Phone, 1)]),
        case("phone bare code wrong local", "tel 85312345678", &[]),
        // "contact" alone is left out: changelogs and key fingerprints put
        // eight-digit dates and hex groups beside "please contact".
        case("phone contact alone is no context", "contact: 6612-3456", &[]),
        case("phone mainland no context", "13812345678", &[]),
        case("phone price", "price 6123.45", &[]),
        case("phone dashed", "Tel 6123-4567", &[(Phone, 1)]),
        case("phone mainland dashed", "手机 138-1234-5678", &[(Phone, 1)]),
        case("phone hk cc dashed", "+852-9123-4567", &[(Phone, 1)]),
        // Dates read as eight digits starting like a Hong Kong line.
        case("phone date not phone", "電話 6123 4567 日期 2026-11-20", &[(Phone, 1)]),
        case("phone spaced date not phone", "tel 2026 11 20", &[]),
        case("phone cc date not phone", "+852 2026-11-20", &[]),
        case("account date not account", "帳號 2026-11-20", &[]),
        case("phone year range not phone", "Copyright 2005-2008 Telephone Corp", &[]),
        case("account year range not account", "account no. 2012-2015", &[]),
        case("phone dashed 2-prefixed line", "Tel 2812-3456", &[(Phone, 1)]),
        case("account day-first date not account", "account no. 20-11-2026", &[]),
        case("account dashed near date", "帳號 1234-5678-9012 日期 2026-11-20", &[(BankAccount, 1)]),
        // Macau banks print a check digit of its own; thirteen digits that are
        // dashed are no millisecond timestamp.
        case("account with check digit group", "戶口號碼：18-01-20-123456-7", &[(BankAccount, 1)]),
        case("account with lone type digit", "戶口號碼：012-875-2-012345-6", &[(BankAccount, 1)]),
        case("account with lone digit second", "account no. 368-1-234567-8", &[(BankAccount, 1)]),
        case("account lone digits side by side", "account no. 3681-2-3-45678", &[]),
        case("account lone digit first", "account no. 1-234567-89", &[]),
        case("account lone digit in two groups", "account no. 12345678-9", &[]),
        case("account check digit group without context", "ref 18-01-20-123456-7", &[]),
        // Grouped by spaces, as statements and bank cards print them: read
        // only where account context already is, so a list of phones stays phones.
        case("account spaced pt", "número de conta 9012 3456 7890", &[(BankAccount, 1)]),
        case("account spaced zh-hans", "银行账号：6222 0212 3456 7890", &[(BankAccount, 1)]),
        case("account spaced without context", "ref 9012 3456 7890", &[]),
        case("account spaced term after", "transfer to 9012 3456 7890, my account number", &[(BankAccount, 1)]),
        case("account spaced four groups term after", "6222 0212 3456 7891 is the 銀行帳號", &[(BankAccount, 1)]),
        case("account spaced waiting keeps a phone", "ref 1234 6123 4567 電話", &[(Phone, 1)]),
        case("account spaced phones stay phones", "電話 6123 4567 6234 5678", &[(Phone, 2)]),
        // Shaped like a Unix time: an account only right after its term.
        case("account timestamp shape after term", "account no. 1234567890", &[(BankAccount, 1)]),
        case("account timestamp shape after zh term", "帳號：1234567890", &[(BankAccount, 1)]),
        case("account term then a timestamp", "the account was updated at 1764384000", &[]),
        // email
        case("email", "mail john.doe@example.com now", &[(Email, 1)]),
        case("email case-folded distinct", "JOHN.DOE@EXAMPLE.COM, john.doe@example.com.", &[(Email, 1)]),
        case("email digits not phone", "61234567@qq.com tel", &[(Email, 1)]),
        case("email scp remote", r#"{"ssh_url":"git@github.com:mitmproxy/mitmproxy.git"}"#, &[]),
        case("email before a colon", "write to chan@example.com: today", &[(Email, 1)]),
        case("email file name", "icon@2x.png", &[]),
        case("email no dot", "user@localhost", &[]),
        // Other countries' passports: only right after their label.
        case("passport hk sar labelled", "Passport No.: K12345678", &[(Passport, 1)]),
        case("passport pt labelled", "Passaporte n.º P123456", &[(Passport, 1)]),
        case("passport zh labelled", "護照號碼：K12345678", &[(Passport, 1)]),
        case("passport shape a few words on", "passport photo, ref K12345678", &[]),
        case("passport shape no label", "booking K12345678 confirmed", &[]),
        case("passport digits only", "Passport No. 123456789", &[]),
        // The mainland's permit to visit Hong Kong and Macau.
        case("permit two-way", "往來港澳通行證 C12345678", &[(TravelPermit, 1)]),
        case("permit two-way no context", "invoice C12345678", &[]),
        // Everyday labels.
        case("account zh account", "收款帳戶：BOC 18-01-20-123456-7", &[(BankAccount, 1)]),
        // "conta" alone is no account term: "tendo em conta", "por conta de".
        case("account pt conta alone", "Ligue 28331234, tendo em conta o prazo", &[]),
        // macau_id written as eight plain digits: only where labelled.
        case("macau plain after BIR", "BIR n.º 12345678", &[(MacauId, 1)]),
        case("macau plain after zh term", "身份證編號：51234567", &[(MacauId, 1)]),
        case("macau plain after a form's label", "身份證明文件編號：51234567", &[(MacauId, 1)]),
        case("passport after zh number word", "護照號 K12345678", &[(Passport, 1)]),
        case("macau plain after a number of something else", "身份證 3號 51234567", &[]),
        case("macau plain after the card's name", "Macau ID card no. 12345678", &[(MacauId, 1)]),
        case("macau plain on the line after its label", "BIR:\n12345678", &[(MacauId, 1)]),
        case(
            "macau plain in the cell after its label",
            "<tr><td>BIR</td>\n  <td class=\"v\">51234567</td></tr>",
            &[(MacauId, 1)],
        ),
        case("macau plain after a tag left open", "BIR < 51234567", &[]),
        case("macau plain full-width", "澳門身份證：１２３４５６７８", &[(MacauId, 1)]),
        case("macau plain a few words on", "BIR copy attached, ref 12345678", &[]),
        case("macau plain wrong first digit", "BIR 22345678", &[]),
        case("macau plain nine digits", "BIR 123456789", &[]),
        case("macau plain labelled twice is one", "BIR 12345678; 澳門身份證 12345678", &[(MacauId, 1)]),
        case("macau plain is no phone", "BIR 61234567", &[]),
        // health
        case("health patience", "please be patient", &[]),
        case("health ops words", "health check ok, see /healthz and diagnostics", &[]),
        case("health strong zh", "附上醫生紙", &[(Health, 1)]),
        case("health two weak", "the patients were taken to hospital", &[(Health, 2)]),
        case("health adjective patient", "the patient was taken to hospital", &[]),
        case("health pt", "Segue o atestado médico.", &[(Health, 1)]),
        case("health icd with term", "Diagnosis: E11.9, type 2 diabetes", &[(Health, 3)]),
        case("health icd alone", "code E11.9", &[]),
        // A bare code counts only where a health term labels it.
        case("health icd bare after its term", "Diagnosis: E11", &[(Health, 1)]),
        case("health icd bare after a chinese term", "診斷：I10", &[(Health, 1)]),
        case("health icd bare near a term", "Staff with symptoms should wear N95 masks", &[]),
        case("health icd bare room", "The clinic is in room B12 on the first floor", &[]),
        // Codes are written in capitals and stand alone.
        case("health icd look-alike: cpu", "The symptom was seen on x86 processors", &[]),
        case("health icd look-alike: target", "Diagnosis: X86_64 only", &[]),
        case("health icd look-alike: version", "Diagnosis: v12.3", &[]),
        // Past the end of its chapter: neoplasms stop at C97.
        case("health icd look-alike: c standard", "Diagnosis: C99", &[]),
        // Icon and class names in a style sheet (Font Awesome) are identifiers.
        case(
            "health css identifiers",
            r#".fa-file-medical:before{content:"\f477"}.fa-file-prescription:before{content:"\f572"}.fa-prescription-bottle-alt:before{content:"\f486"}"#,
            &[],
        ),
        case("health snake identifier", "load_prescriptions_v2(); prescription_id = 7", &[]),
        case("health prescription in prose", "Prescription attached, see the doctor's note.", &[(Health, 2)]),
        case("health term before a dash", "sick leave - for Mr Chan", &[(Health, 1)]),
        // Weak alone: the limitation period in Macau's laws in English, and
        // what a standard prescribes.
        case(
            "health prescription in law",
            "The right to claim is subject to a prescription period of 20 years.",
            &[],
        ),
        case("health prescription in a standard", "the prescriptions of POSIX", &[]),
        // Weak too: compilers diagnose code. The illness after it is a term.
        case(
            "health diagnosed in release notes",
            "Such code is now diagnosed with a more informative error message.",
            &[],
        ),
        case(
            "health diagnosed with an illness",
            "My mother was diagnosed with pneumonia last week",
            &[(Health, 2)],
        ),
        case("health diagnosed zh", "上週確定患上肺炎，需要住院", &[(Health, 2)]),
        case(
            "health prescription with its dosage",
            "Prescription: amoxicillin 500 mg, dosage three times a day",
            &[(Health, 2)],
        ),
        case("health sick leave zh-hans", "申请病假三天", &[(Health, 1)]),
        case(
            "health patience repeated is no evidence",
            "please be patient. please be patient. please be patient. 附上醫生紙",
            &[(Health, 1)],
        ),
        // Two weak terms pages apart are two topics, not a record; three
        // distinct ones spread over a body still make one.
        case("health two weak terms far apart", format!("patients {far} hospital"), &[]),
        case(
            "health event plan",
            format!("Please tell us about any food allergy. {far} The venue is next to the hospital."),
            &[],
        ),
        case(
            "health three weak terms far apart",
            format!("patients {far} hospital {far} diagnosis"),
            &[(Health, 1)],
        ),
        // Spread over more than sixteen windows (a long changelog that names
        // Argument Clinic, a diagnosis and a symptom), they are no record.
        case(
            "health three weak terms pages and pages apart",
            {
                let pages = "x ".repeat(2500);
                format!("Argument Clinic {pages} Diagnosis and patch by Davide {pages} baffling symptoms")
            },
            &[],
        ),
        case("health two weak terms together", "patients of the hospital", &[(Health, 2)]),
        // How people write of their own or a colleague's illness: everyday
        // words, two of them near each other.
        case("health confirmed covid zh", "陳大文 已確診新冠肺炎，需隔離七天。", &[(Health, 2)]),
        case("health tested positive", "Maria tested positive for COVID-19 and will be off until Friday.", &[(Health, 2)]),
        case("health pregnancy check zh-hans", "妊娠12周 产检报告 B超正常", &[(Health, 2)]),
        case(
            "health physiotherapy notes",
            "Physiotherapy session notes: patient reports lower back pain, MRI shows L4-L5 disc herniation.",
            &[(Health, 2)],
        ),
        case("health pregnant", "She is pregnant and has requested maternity leave from January.", &[(Health, 2)]),
        case("health cantonese sick", "今日病咗，朝早睇醫生，聽日覆診", &[(Health, 3)]),
        case("health pt internada", "A Sra. Ana esteve internada com febre alta.", &[(Health, 2)]),
        case(
            "health public hospital receipt pt",
            "Recibo. Centro Hospitalar Conde de São Januário, consulta externa, MOP 120,00",
            &[(Health, 3)],
        ),
        case("health one everyday word", "World Cup fever hits Macau", &[]),
        case("health positive test of code", "the build tested positive for the regression", &[]),
        case("health x-ray in physics", "X-ray diffraction of the crystal", &[]),
        // financial_record
        case("fin statement with amount", "bank statement: balance 12,345.67", &[(FinancialRecord, 3)]),
        // One weak term and numbers with two decimals: a table of measurements.
        case(
            "fin amount word and decimals",
            "limited by a sheer amount of NEON instructions. Cycles per byte: A7 2.39 1.20 1.20, A53 1.32 1.29 1.46",
            &[],
        ),
        case("fin two terms and an amount", "salary 12345.67, balance 300.00", &[(FinancialRecord, 4)]),
        case("fin single weak", "keep the balance", &[]),
        case("fin zh-hans", "附件是工资条", &[(FinancialRecord, 1)]),
        case("fin pt", "recibo de vencimento de março", &[(FinancialRecord, 1)]),
        case("fin zh-hant payslip", "工資單：基本薪金 18,000，實發 17,910", &[(FinancialRecord, 3)]),
        case("fin en net pay", "Net pay 23,750.00; gross pay 25,000.00", &[(FinancialRecord, 4)]),
        // Markdown tables (a robot's `markdown` message, a `.md` file): each
        // cell of a body row is read under its column's header, as a CSV's.
        case(
            "markdown table by columns",
            "#### 新入職員工\n\n| 姓名 | BIR | 手提電話 | 銀行帳號 |\n| --- | --- | --- | --- |\n\
             | 陳大文 | 51234567 | 66123456 | 0119000012345678 |\n\
             | 李小明 | 71234568 | 62345678 | 0119000012345679 |\n\
             | 黃美玲 | 12345670 | 63456789 | 0119000012345680 |\n",
            &[(MacauId, 3), (BankAccount, 3), (Phone, 3)],
        ),
        case(
            "markdown table of labels and values",
            "| 項目 | 內容 |\n|:--|--:|\n| 姓名 | 陳大文 |\n| BIR | 51234567 |\n| Passport No. | K12345678 |\n",
            &[(MacauId, 1), (Passport, 1)],
        ),
        case(
            "markdown table rows without outer pipes at the end, CRLF",
            "| Name | BIR\r\n| --- | ---\r\n| Chan | 51234567\r\n| Lee | 71234568\r\n",
            &[(MacauId, 2)],
        ),
        // Without its delimiter row it is no table: rows are text.
        case(
            "markdown rows without a delimiter",
            "| 姓名 | BIR |\n| 陳大文 | 51234567 |\n",
            &[],
        ),
        // The column ends with the table: a number in the next line is text.
        case(
            "markdown table ends at its last row",
            "| 姓名 | BIR |\n| --- | --- |\n| 陳大文 | 51234567 |\nOrder 71234568 shipped",
            &[(MacauId, 1)],
        ),
        case(
            "markdown table interrupted by a line",
            "| 姓名 | BIR |\n| --- | --- |\n| 陳大文 | 51234567 |\n\n| Lee | 71234568 |\n",
            &[(MacauId, 1)],
        ),
        // The term in the header, and each cell under it once (as text, the
        // header's term alone).
        case(
            "markdown column named for sick leave",
            "| 姓名 | 病假原因 |\n| --- | --- |\n| 陳大文 | 腸胃炎 |\n| 李小明 | 感冒 |\n",
            &[(Health, 3)],
        ),
        case(
            "markdown rows named for sick leave without a delimiter",
            "| 姓名 | 病假原因 |\n| 陳大文 | 腸胃炎 |\n| 李小明 | 感冒 |\n",
            &[(Health, 1)],
        ),
        case(
            "markdown table of order numbers",
            "| Order | Qty |\n| --- | --- |\n| 51234567 | 3 |\n| 71234568 | 12 |\n",
            &[],
        ),
        // look-alikes
        case("uuid", "id 550e8400-e29b-41d4-a716-446655440000", &[]),
        case("sku", "SKU A123456-7 qty 12 price 99.00", &[]),
        case("version", "v1.2.3 build 20261129", &[]),
        case("ip", "192.168.100.200", &[]),
    ]
}

fn check_case(c: &Case) {
    let want: Vec<(Class, u64)> = c.want.iter().copied().filter(|(_, n)| *n > 0).collect();
    let whole = run(&[c.text.as_bytes()]);
    assert_eq!(counts(&whole), want, "case {:?}", c.name);
    let bytes = c.text.as_bytes();
    for k in 0..=bytes.len() {
        let (a, b) = bytes.split_at(k);
        let split = run(&[a, b]);
        assert_eq!(split, whole, "case {:?} split at {k}", c.name);
    }
}

#[test]
fn case_table_whole_and_at_every_split_point() {
    for c in cases() {
        check_case(&c);
    }
}

#[test]
fn samples_are_masked() {
    let text = "A123456(3) 4111111111111111 john.doe@example.com +853 6123 4567 \
                GB82WEST12345698765432 11010519491231002X BIR 1234567(8) +86 138 1234 5678";
    let f = run(&[text.as_bytes()]);
    let s = |c: Class| f.samples.get(&c).cloned().unwrap_or_default();
    assert_eq!(s(HkId), ["A12****(3)"]);
    assert_eq!(s(PaymentCard), ["4111********1111"]);
    assert_eq!(s(Email), ["****@example.com"]);
    assert_eq!(s(Phone), ["+853 6*** **67", "+86 138 **** **78"]);
    assert_eq!(s(Iban), ["GB82**************5432"]);
    assert_eq!(s(PrcId), ["1101************2X"]);
    assert_eq!(s(MacauId), ["123****(8)"]);
    let all = format!("{f:?}");
    for raw in [
        "1234563",
        "4111111111111111",
        "john.doe",
        "61234567",
        "12345698765432",
        "19491231",
        "2345678",
    ] {
        assert!(!all.contains(raw), "raw {raw} in findings");
    }
}

#[test]
fn debug_output_never_shows_text() {
    let mut s = TextScan::new(det());
    s.text(b"A123456(3) secret john@example.com ");
    let dbg = format!("{s:?} {:?}", det());
    assert!(
        !dbg.contains("A123456") && !dbg.contains("john") && !dbg.contains("secret"),
        "{dbg}"
    );
}

fn cells(header: &[u8], values: &[&str]) -> Findings {
    let mut s = TextScan::new(det());
    for v in values {
        s.field(header);
        s.text(v.as_bytes());
        s.boundary();
    }
    let mut f = Findings::default();
    s.finish_into(&mut f);
    f
}

/// Card-length ids with a Visa prefix, as order and tracking numbers are:
/// deterministic, and a tenth of them pass Luhn by chance.
fn order_ids(n: usize) -> Vec<String> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("4{:015}", x % 1_000_000_000_000_000)
        })
        .collect()
}

#[test]
fn long_ids_that_pass_luhn_by_chance_are_not_cards() {
    let ids = order_ids(60);
    let by_chance = ids
        .iter()
        .filter(|i| validate::payment_card(i.as_bytes()))
        .count();
    assert!(
        (2..30).contains(&by_chance),
        "the list tests the rule: {by_chance} pass"
    );
    // As a column of order numbers, and as plain lines of text.
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(counts(&cells(b"order_id", &refs)), vec![]);
    let text = ids.join("\n");
    check_case(&case("sixty order ids", text, &[]));
}

#[test]
fn lists_of_cards_and_cards_among_ids_still_count() {
    let cards = [
        "4111111111111111",
        "5500000000000004",
        "340000000000009",
        "4012888888881881",
        "6200000000000005",
        "3530111333300000",
        "5105105105105100",
        "4222222222222",
        "4000056655665556",
        "5200828282828210",
        "371449635398431",
    ];
    // A list of cards with no context at all: every one passes Luhn.
    check_case(&case(
        "eleven plain cards",
        cards.join("\n"),
        &[(Class::PaymentCard, 11)],
    ));
    // A lone card in a message counts as it always did.
    check_case(&case(
        "one plain card",
        "order 4111111111111111 shipped",
        &[(Class::PaymentCard, 1)],
    ));
    // Cards under a column that names them count among many order ids.
    let mut s = TextScan::new(det());
    for (k, id) in order_ids(60).iter().enumerate() {
        s.field(b"order_id");
        s.text(id.as_bytes());
        s.boundary();
        if let Some(card) = cards.get(k % 20) {
            s.field(b"card_number");
            s.text(card.as_bytes());
            s.boundary();
        }
    }
    let mut f = Findings::default();
    s.finish_into(&mut f);
    assert_eq!(counts(&f), vec![(Class::PaymentCard, 11)]);
}

/// Field names are written as code: `account_number`, `contactNumber`,
/// `card-number`. They match the prose terms ("account number") all the same.
#[test]
fn snake_and_camel_case_field_names_match_their_terms() {
    for (header, value, class) in [
        (&b"account_number"[..], "01234567890", Class::BankAccount),
        (b"bankAccountNo", "01234567890", Class::BankAccount),
        // Shaped like a Unix time, but the column says what it is.
        (b"account_number", "1234567890", Class::BankAccount),
        (b"contactNumber", "61234567", Class::Phone),
        (b"contact-no", "61234567", Class::Phone),
    ] {
        assert_eq!(
            counts(&cells(header, &[value])),
            vec![(class, 1)],
            "{}",
            String::from_utf8_lossy(header)
        );
    }
}

#[test]
fn a_bare_icd_code_counts_under_a_field_named_for_health() {
    // The value under the field is one piece of evidence, the code another.
    for (name, value, want) in [
        ("diagnosis", "E11", vec![(Health, 2)]),
        ("diagnosis", "no findings", vec![]),
        ("room", "B12", vec![]),
    ] {
        let f = under_fields([(name, value)]);
        assert_eq!(counts(&f), want, "{name}: {value}");
    }
}

/// An HR sheet's column headed BIR holds plain eight-digit numbers: each is
/// a Macau identity number, not a phone or an account, however the row
/// around it reads. A column headed Passport holds other countries'
/// passport numbers.
#[test]
fn labelled_ids_count_under_a_field_named_for_them() {
    for (name, value, want) in [
        ("BIR編號", "51234567", vec![(MacauId, 1)]),
        ("Passport No.", "K12345678", vec![(Passport, 1)]),
        ("passport_no", "ｐ１２３４５６", vec![(Passport, 1)]),
        ("booking_ref", "K12345678", vec![]),
        ("N.º do BIR", "１２３４５６７８", vec![(MacauId, 1)]),
        ("身份證編號", "61234567", vec![]),
        ("員工編號", "51234567", vec![]),
        ("手提電話", "61234567", vec![(Phone, 1)]),
    ] {
        let f = under_fields([(name, value)]);
        assert_eq!(counts(&f), want, "{name}: {value}");
    }
}

/// DingTalk's approval forms send each answer as a `name` and a `value`
/// (`form_component_values`), and forms kept in a sheet put the label in
/// one cell and the answer in the next: the label names the value after it.
#[test]
fn a_label_in_one_value_names_the_next() {
    for (label, answer, want) in [
        ("身份證編號", "51234567", vec![(MacauId, 1)]),
        ("Passport", "K12345678", vec![(Passport, 1)]),
        ("銀行帳號", "1234567890", vec![(BankAccount, 1)]),
        ("Diagnosis", "E11", vec![(Health, 1)]),
        ("Remarks", "51234567", vec![]),
        ("* 身份證編號：", "51234567", vec![(MacauId, 1)]),
        // Macau's government forms; a Chinese word for "number" after the term.
        ("身份證明文件編號", "51234567", vec![(MacauId, 1)]),
        ("證件編號", "K12345678", vec![(Passport, 1)]),
        ("Nº de Identificação", "51234567", vec![(MacauId, 1)]),
        // A message that asks for a number names none of the fields after it.
        ("請提供你的銀行帳號", "1700000000", vec![]),
        ("Please send me your passport", "K12345678", vec![]),
    ] {
        let f = under_fields([("name", label), ("value", answer)]);
        assert_eq!(counts(&f), want, "{label}: {answer}");
    }
}

/// A Markdown table lies inside one value: a delimiter row in the next
/// value (the next JSON string, the next cell) opens none, and a row in the
/// next value is not the table's.
#[test]
fn a_markdown_table_ends_with_its_value() {
    let split_header = under_fields([
        ("text", "| 姓名 | BIR |"),
        ("text", "| --- | --- |\n| 陳大文 | 51234567 |\n"),
    ]);
    assert_eq!(counts(&split_header), []);
    let row_after = under_fields([
        (
            "text",
            "| 姓名 | BIR |\n| --- | --- |\n| 陳大文 | 51234567 |",
        ),
        ("text", "| 李小明 | 71234568 |"),
    ]);
    assert_eq!(counts(&row_after), [(MacauId, 1)]);
}

/// A row is read only as far as the scan looks ahead: a longer one is text,
/// at every split, and the table ends at it.
#[test]
fn a_markdown_row_too_long_to_read_ends_the_table() {
    // 360 bytes: past the scan's 192-byte lookahead.
    let long = "長".repeat(120);
    let text = format!(
        "| 姓名 | BIR |\n| --- | --- |\n| 陳大文 | 51234567 |\n| {long} | 52345678 |\n| 李小明 | 71234568 |\n"
    );
    let whole = run(&[text.as_bytes()]);
    assert_eq!(counts(&whole), [(MacauId, 1)]);
    let b = text.as_bytes();
    for k in 0..=b.len() {
        let (x, y) = b.split_at(k);
        assert_eq!(run(&[x, y]), whole, "split at {k}");
    }
    assert_eq!(run_general(&[b]), whole);
}

/// A CSV's header row is read as text, then each cell under its column: the
/// header's last cell (`BIR`) comes right before the first cell of the
/// next row (a staff number), and labels it no more than any other header.
#[test]
fn a_header_cell_labels_no_cell_below_it() {
    let mut s = TextScan::new(det());
    for header in ["員工編號", "姓名", "BIR"] {
        s.text(header.as_bytes());
        s.boundary();
    }
    for row in [
        ["51234567", "陳大文", "12345678"],
        ["52345678", "李小明", "72345678"],
    ] {
        for (name, cell) in ["員工編號", "姓名", "BIR"].iter().zip(row) {
            s.field(name.as_bytes());
            s.text(cell.as_bytes());
            s.boundary();
        }
    }
    let mut f = Findings::default();
    s.finish_into(&mut f);
    assert_eq!(counts(&f), [(MacauId, 2)]);
}

#[test]
fn field_names_that_may_be_identifiers_are_read_as_values() {
    // (name, want): an object keyed by ID number, phone or e-mail counts its
    // keys; names with a digit or two only give context, and add nothing.
    let cases: &[(&str, Vec<(Class, u64)>)] = &[
        ("A123456(3)", vec![(HkId, 1)]),
        ("Ａ１２３４５６（３）", vec![(HkId, 1)]),
        ("+853 6123 4567", vec![(Phone, 1)]),
        ("chan.tai.man@example.mo", vec![(Email, 1)]),
        ("4111 1111 1111 1111", vec![(PaymentCard, 1)]),
        ("A123456(4)", vec![]),
        ("field1", vec![]),
        ("2026-11-29", vec![]),
        ("電話", vec![]),
    ];
    for (name, want) in cases {
        let mut s = TextScan::new(det());
        s.field(name.as_bytes());
        s.text(b"Chan Tai Man");
        s.boundary();
        let mut f = Findings::default();
        s.finish_into(&mut f);
        assert_eq!(counts(&f), *want, "{name}");
    }
    // A name is a value of its own: it joins neither the value before it nor
    // its own value into one number.
    let mut s = TextScan::new(det());
    s.text(b"A12");
    s.field(b"3456(3)x123456");
    s.text(b"(3)");
    let mut f = Findings::default();
    s.finish_into(&mut f);
    assert!(f.classes.is_empty(), "{:?}", f.classes);
    // The same value as a key and as a value counts once.
    let mut s = TextScan::new(det());
    s.field(b"A123456(3)");
    s.text(b"HKID A123456(3)");
    let mut f = Findings::default();
    s.finish_into(&mut f);
    assert_eq!(counts(&f), [(HkId, 1)]);
}

#[test]
fn column_header_covers_its_column() {
    let phones = ["61234567", "62345678", "28123456", "6123 4567"];
    type ColumnCase<'a> = (&'a str, &'a [u8], Vec<(Class, u64)>);
    let cases: &[ColumnCase] = &[
        ("phone column zh", "電話".as_bytes(), vec![(Phone, 3)]),
        ("phone column en", b"Mobile Phone", vec![(Phone, 3)]),
        ("unrelated column", b"remarks", vec![]),
    ];
    for (name, header, want) in cases {
        assert_eq!(counts(&cells(header, &phones)), *want, "{name}");
    }
    // Without any field names, bare numbers in separate values do not count.
    let mut s = TextScan::new(det());
    for v in phones {
        s.text(v.as_bytes());
        s.boundary();
    }
    let mut f = Findings::default();
    s.finish_into(&mut f);
    assert!(f.classes.is_empty(), "{:?}", f.classes);
    // A health column: each value is evidence; a strong header alone reports.
    assert_eq!(
        counts(&cells("病歷".as_bytes(), &["a", "b", " "])),
        [(Health, 2)]
    );
    assert_eq!(counts(&cells(b"patient", &["Chan", "Wong"])), []);
    assert_eq!(
        counts(&cells(
            "身份證號碼".as_bytes(),
            &["1234567(8)", "5123456(7)"]
        )),
        [(MacauId, 2)]
    );
}

#[test]
fn boundary_stops_matches() {
    let mut s = TextScan::new(det());
    s.text(b"4111 1111");
    s.boundary();
    s.text(b" 1111 1111");
    let mut f = Findings::default();
    s.finish_into(&mut f);
    assert!(f.classes.is_empty(), "{:?}", f.classes);
}

#[test]
fn reset_forgets_the_last_body() {
    let mut s = TextScan::new(det());
    s.text(b"A123456(3)");
    let mut f = Findings::default();
    s.finish_into(&mut f);
    assert_eq!(f.count(HkId), 1);
    s.reset();
    s.text(b"nothing here");
    let mut g = Findings::default();
    s.finish_into(&mut g);
    assert!(g.classes.is_empty());
}

/// A document of several kinds, long enough to cross the internal buffer sizes.
fn mixed_doc() -> String {
    let mut d = String::new();
    for i in 0..400 {
        d.push_str(&format!(
            "{{\"msg\":\"第{i}條：請把病假證明發給我 please be patient\",\"tel\":\"+853 6{:03} 4567\"}}\n",
            i % 1000
        ));
        if i % 50 == 7 {
            d.push_str("BIR 1234567(8) 卡號 4111 1111 1111 1111 mail a.b@example.org A123456(3)\n");
        }
        if i % 97 == 3 {
            d.push_str(&"1234567890".repeat(30));
            d.push('\n');
        }
    }
    d
}

#[test]
fn large_document_chunked_like_whole() {
    let d = mixed_doc();
    let whole = run(&[d.as_bytes()]);
    assert_eq!(whole.count(Phone), 400);
    assert_eq!(whole.count(MacauId), 1);
    assert_eq!(whole.count(HkId), 1);
    assert_eq!(whole.count(PaymentCard), 1);
    // One sick-leave note per message; "please be patient" adds nothing.
    assert_eq!(whole.count(Health), 400);
    for size in [1usize, 7, 4096, 40_000] {
        let chunks: Vec<&[u8]> = d.as_bytes().chunks(size).collect();
        assert_eq!(run(&chunks), whole, "chunk size {size}");
    }
}

#[test]
fn fast_paths_agree_with_the_general_ones() {
    for c in cases() {
        let b = c.text.as_bytes();
        assert_eq!(run(&[b]), run_general(&[b]), "{}", c.name);
    }
    let d = mixed_doc();
    assert_eq!(run(&[d.as_bytes()]), run_general(&[d.as_bytes()]));
}

/// Ids glued to letters (`user123`, `cid0a3f…`), an HKID and a card at every
/// offset to the 64-byte blocks, so that each crosses a block's end: the
/// block that ends before such a run and the next, which reads it whole,
/// find what the general walk finds.
#[test]
fn glued_ids_across_block_ends_agree_with_the_general_walk() {
    let record = "{\"sender\":\"user123\",\"conversationId\":\"cid0a3f9b2c77e1d4a5\",\
                  \"text\":\"my HKID is A123456(3), card 4111 1111 1111 1111\",\"ts\":1764384000997}\n";
    for pad in 0..64 {
        let text = format!("{}{}", " ".repeat(pad), record.repeat(6));
        let fast = run(&[text.as_bytes()]);
        assert_eq!(fast, run_general(&[text.as_bytes()]), "{pad}");
        assert_eq!(fast.classes.get(&Class::HkId), Some(&1), "{pad}");
    }
}

/// Text made of the pieces the token paths and the word filter decide on:
/// digit runs, letters, delimiters, separators, spaces, full-width digits,
/// CJK, and the odd keyword.
fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9]{1,20}",
        "[a-zA-Z]{1,6}",
        r#"[",:;{}\[\]\n\t]"#,
        "[ ()+./<@_=#-]",
        Just("１２３".to_string()),
        Just("電話".to_string()),
        // CJK terms and ordinary CJK text around them, at any alignment to
        // the 64-byte blocks (the CJK filter against the per-character run).
        Just("醫生紙".to_string()),
        Just("病假".to_string()),
        Just("帳號".to_string()),
        Just("診斷".to_string()),
        "[今天會議客戶報告請查收的了是]{1,8}",
        Just(" tel ".to_string()),
        Just("passport".to_string()),
        Just("GB82WEST12345698765432".to_string()),
        Just("A123456(3)".to_string()),
        // File names: `_` between words, an extension at the end.
        Just("_".to_string()),
        Just(".pdf".to_string()),
        Just(".JPG ".to_string()),
        Just("6123 4567".to_string()),
        // Country codes before whole numbers, timestamps right after an
        // account term.
        Just("+86 ".to_string()),
        Just("account no. ".to_string()),
        "1[0-9]{9}",
        // Decimals, and two financial terms so that amounts show in the count.
        r"[0-9]{1,6}\.[0-9]{1,3}",
        // Dates and other digit groups joined by separators, which the walk
        // and `separated` must read alike, alone and in chains.
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}",
        r"[0-9]{1,4}([-./][0-9]{1,4}){1,4}",
        Just(" salary ".to_string()),
        Just(" balance ".to_string()),
        // Ids glued to letters (`user123`, `cid0a3f…`), which the block pass
        // dismisses without reading, beside the chains and context terms
        // whose order they decide: a card or phone in a chain must be read
        // before a term after the id, as it is when the id is read.
        "[a-zA-Z]{3,6}[0-9][0-9a-f]{0,12}",
        Just("4111 1111 1111 1111 ".to_string()),
        Just(" card number ".to_string()),
        // Short numbers and words led by digits between words (`room 12
        // at 3pm`), dropped without a walk unless a space joins them to a
        // token before or after.
        "( [0-9]{1,3}[a-z]{0,3} [a-z]{1,7}[0-9]?)",
        " [0-9]{1,2}:[0-9]{2}[?,]",
        Just("６１２３".to_string()),
        // Markdown tables: rows, delimiter rows, a column named for an
        // identifier, and pipes that begin no row.
        Just("\n| ".to_string()),
        Just(" | ".to_string()),
        Just(" |\n".to_string()),
        Just("\n| --- | --- |\n".to_string()),
        Just("\n|:--|\n".to_string()),
        Just("| BIR | 手提電話 |".to_string()),
        Just("\\|".to_string()),
        // A value boundary (see `values`).
        Just("\u{1}".to_string()),
    ];
    proptest::collection::vec(piece, 0..120).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn fast_paths_agree_on_token_soup(text in token_soup()) {
        // U+0001 ends a value, as a JSON string or CSV cell ends.
        let values = |mut s: TextScan| {
            for v in text.split('\u{1}') {
                s.text(v.as_bytes());
                s.boundary();
            }
            let mut f = Findings::default();
            s.finish_into(&mut f);
            f
        };
        prop_assert_eq!(values(TextScan::new(det())), values(TextScan::general(det())));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    /// Values under fields (JSON keys, CSV columns), each value's text cut
    /// anywhere: the batched scan gives what one call per value gives, and
    /// so does `text_in` with an identifier in the bytes after the value
    /// (which a block copy reads and must cut back). Names come in a cycle
    /// or at random, so the next-name guess both holds and fails; one is
    /// itself data.
    #[test]
    fn fields_and_values_at_any_split(
        values in proptest::collection::vec((0usize..6, token_soup(), 0usize..200), 0..40),
        cycle in any::<bool>(),
    ) {
        const NAMES: [&str; 6] = ["電話", "diagnosis", "note", "account no", "病假", "A123456(3)"];
        const AFTER: &[u8] = b"\",\"id\":\"4111 1111 1111 1111 A123456(3) 6123 4567 \"}";
        let run_values = |how: u8| {
            let mut s = TextScan::new(det());
            for (k, (name, text, at)) in values.iter().enumerate() {
                let name = if cycle { k % 4 } else { *name };
                s.field(NAMES[name].as_bytes());
                let b = text.as_bytes();
                match how {
                    0 => {
                        let at = (*at).min(b.len());
                        s.text(&b[..at]);
                        s.text(&b[at..]);
                    }
                    1 => s.text(b),
                    _ => {
                        let mut padded = b"\"".to_vec();
                        padded.extend_from_slice(b);
                        padded.extend_from_slice(AFTER);
                        s.text_in(&padded, 1, 1 + b.len());
                    }
                }
                s.boundary();
            }
            let mut f = Findings::default();
            s.finish_into(&mut f);
            f
        };
        let whole = run_values(1);
        prop_assert_eq!(run_values(0), whole.clone());
        prop_assert_eq!(run_values(2), whole);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn arbitrary_chunking_gives_the_same_findings(cuts in proptest::collection::vec(0usize..30_000, 0..40)) {
        static DOC: OnceLock<(String, Findings)> = OnceLock::new();
        let (doc, whole) = DOC.get_or_init(|| {
            let d = mixed_doc();
            let d: String = d.chars().take(30_000).collect();
            let f = run(&[d.as_bytes()]);
            (d, f)
        });
        let bytes = doc.as_bytes();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut at = 0;
        for c in cuts {
            chunks.push(&bytes[at..c]);
            at = c;
        }
        chunks.push(&bytes[at..]);
        prop_assert_eq!(&run(&chunks), whole);
    }

    #[test]
    fn fast_paths_agree_on_broken_utf8(data in proptest::collection::vec(
        prop_oneof![0xE0u8..=0xEF, 0x80u8..=0xBF, 0xF0u8..=0xFF, b'0'..=b'9', Just(b' '), Just(b'@'), any::<u8>()],
        0..3000,
    )) {
        prop_assert_eq!(run(&[&data]), run_general(&[&data]));
    }

    #[test]
    fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2000), cut in 0usize..2000) {
        let cut = cut.min(data.len());
        let (a, b) = data.split_at(cut);
        let f = run(&[a, b]);
        prop_assert_eq!(&f, &run(&[&data]));
    }
}

#[test]
fn settings_errors_name_their_path() {
    let mut s = DetectorSettings::empty();
    s.context.insert(
        "hkid".into(),
        [("en".to_string(), vec!["identity".to_string()])].into(),
    );
    s.context.insert(
        "phone".into(),
        [(
            "en".to_string(),
            vec!["tel".to_string(), "id".to_string(), "電".to_string()],
        )]
        .into(),
    );
    s.evidence.insert(
        "email".into(),
        EvidenceSettings {
            threshold: 1,
            ..EvidenceSettings::default()
        },
    );
    s.custom_patterns.push(CustomPattern {
        name: "x".into(),
        class: "health".into(),
        shape: "99".into(),
        check: CheckKind::None,
        needs_context: false,
    });
    let errs = Detectors::new(&s).err().unwrap_or_default();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    for want in [
        "context.hkid",
        "context.phone.en[1]",
        "context.phone.en[2]",
        "evidence.email",
        "custom_patterns[0].class",
        "custom_patterns[0].shape",
    ] {
        assert!(paths.contains(&want), "missing {want} in {paths:?}");
    }
    assert!(errs
        .iter()
        .any(|e| e.message.contains("unknown class \"hkid\"")));
}

#[test]
fn operator_adds_a_term_and_a_custom_pattern() {
    let mut s = DetectorSettings::default();
    s.context
        .entry("passport".into())
        .or_default()
        .entry("en".into())
        .or_default()
        .push("travel doc id".into());
    s.custom_patterns.push(CustomPattern {
        name: "staff card".into(),
        class: "bank_account".into(),
        shape: "SC999999".into(),
        check: CheckKind::None,
        needs_context: false,
    });
    let d = Arc::new(Detectors::new_on(&s, TODAY).unwrap_or_else(|e| panic!("{e:?}")));
    let mut t = TextScan::new(d);
    t.text("travel doc id G12345678; card SC123456".as_bytes());
    let mut f = Findings::default();
    t.finish_into(&mut f);
    assert_eq!(counts(&f), [(Passport, 1), (BankAccount, 1)]);
}

#[test]
fn shipped_detectors_compile() {
    let r = Detectors::new(&DetectorSettings::default());
    assert!(r.is_ok(), "{:?}", r.err());
}

/// Short weak terms turn up by chance in binary data scanned as bytes, and
/// two distinct ones anywhere make a record: 4 MiB of random bytes (the
/// bench's) read as a health record, and so did a DOCX embedding 200 KB of
/// them. Between bytes that are no text, or cased as no one writes them,
/// they are not words; in text, and in NUL-ended strings, they still are.
#[test]
fn short_terms_in_binary_data_are_chance() {
    // The two matches that made 200 KB of random bytes a health record.
    let mut noise = b"X%Z\x8f\xabvIh\xa1\xf2\xbc\xe7\xee".to_vec();
    noise.extend_from_slice(&[0xAA; 2000]);
    noise.extend_from_slice(b"\xe5\xf8;E\xd2hIv=;\xe8\xe6\xcc");
    noise.extend_from_slice(b"\x01HIV\x02 \xffVIH\xfe \x03CVV\x04 \x9fNIB\x9f");
    // Addresses as random bytes spell them.
    noise.extend_from_slice(b"\x91q7x@Kd9.oRg\x05 \x02ab@cd.ef\x03 zz@yy.xW,");
    let f = run(&[&noise]);
    assert!(f.classes.is_empty(), "{:?}", f.classes);
    // Random bytes, as the bench makes them.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let random: Vec<u8> = (0..(4 << 20) / 8)
        .flat_map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes()
        })
        .collect();
    let f = run(&[&random]);
    assert!(
        f.classes.is_empty(),
        "4 MiB of random bytes: {:?}",
        f.classes
    );
    // Text: beside Chinese, Portuguese, punctuation, or a string's NUL.
    // Exact counts: a near pair of health terms is two pieces (患者 and 陽性
    // make four), an address one.
    let text: [(&[u8], Class, u64); 6] = [
        ("患者HIV陽性，VIH positivo".as_bytes(), Health, 4),
        (b"(HIV) test; see VIH.", Health, 2),
        (b"\0HIV\0\0Vih\0", Health, 2),
        ("郵箱:chan.tai.man@example.com，".as_bytes(), Email, 1),
        (b"\0Chan@Example.COM\0", Email, 1),
        (b"<a href=\"mailto:ops@corp.mo\">", Email, 1),
    ];
    for (bytes, class, want) in text {
        let f = run(&[bytes]);
        assert_eq!(
            f.count(class),
            want,
            "{:?}: {:?}",
            String::from_utf8_lossy(bytes),
            f.classes
        );
    }
}

/// Two columns that name health terms make a health record whatever lies
/// between their values; one such column alone, as before, does not.
#[test]
fn health_columns_together_make_a_record() {
    let table = |columns: &[&[u8]]| {
        let mut s = TextScan::new(det());
        for row in 0..3 {
            for name in columns {
                s.field(name);
                s.text(format!("value {row} {}", "x ".repeat(200)).as_bytes());
                s.boundary();
            }
        }
        let mut f = Findings::default();
        s.finish_into(&mut f);
        f.count(Health)
    };
    assert!(table(&[b"Diagnosis", b"Hospital"]) > 0);
    assert_eq!(table(&[b"Diagnosis", b"Remarks"]), 0);
}

/// A salary table as an office keeps one, in each language: the columns
/// for pay and for what is paid on top of it make a financial record; one
/// pay column beside names and totals does not. ("Allowance" is no term:
/// code is full of allowances and amounts.)
#[test]
fn salary_columns_make_a_financial_record() {
    let table = |columns: &[&str]| {
        let cells: Vec<(&str, String)> = (0..3)
            .flat_map(|row| {
                columns
                    .iter()
                    .map(move |c| (*c, format!("{}.00", 15_000 + row * 700)))
            })
            .collect();
        under_fields(cells.iter().map(|(c, v)| (*c, v.as_str()))).count(FinancialRecord)
    };
    assert!(table(&["Name", "Basic Salary", "Overtime", "Net Pay"]) > 0);
    assert!(table(&["Nome", "Vencimento base", "Subsídio", "Total"]) > 0);
    assert!(table(&["姓名", "底薪", "津貼", "總數"]) > 0);
    assert!(table(&["姓名", "工资", "津贴", "合计"]) > 0);
    assert_eq!(table(&["Name", "Basic Salary", "Allowance", "Total"]), 0);
}
