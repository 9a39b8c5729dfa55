//! Upload bodies built in the test: DOCX files, multipart forms, gzip, customer
//! lists, and identity numbers computed with their check digits.

use std::io::Write;

/// The `n`th valid one-letter HKID, e.g. `A123456(3)` for the check digit rule
/// (weights 9…2, a space worth 36 before a one-letter prefix, A=10 … Z=35).
pub fn hkid(n: u32) -> String {
    let letter = b'A' + (n % 26) as u8;
    let digits = format!("{:06}", 100_000 + (n * 7919) % 900_000);
    let mut sum = 36 * 9 + (u32::from(letter - b'A') + 10) * 8;
    for (i, d) in digits.bytes().enumerate() {
        sum += u32::from(d - b'0') * (7 - i as u32);
    }
    let check = match (11 - sum % 11) % 11 {
        10 => 'A',
        c => char::from(b'0' + c as u8),
    };
    format!("{}{digits}({check})", letter as char)
}

/// A minimal, valid DOCX whose body is `paragraphs`.
pub fn docx(paragraphs: &[String]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let files = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.to_string()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#.to_string()),
        ("word/document.xml", {
            let body: String = paragraphs
                .iter()
                .map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"))
                .collect();
            format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#)
        }),
    ];
    for (name, content) in files {
        zip.start_file(name, opts).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A minimal XLSX whose first sheet holds `rows`, every cell a shared
/// string, as Excel saves text typed into cells.
pub fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut strings = String::new();
    let mut sheet = String::new();
    let mut k = 0;
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in row.iter().enumerate() {
            let col = char::from(b'A' + c as u8);
            sheet.push_str(&format!(r#"<c r="{col}{}" t="s"><v>{k}</v></c>"#, r + 1));
            strings.push_str(&format!("<si><t>{cell}</t></si>"));
            k += 1;
        }
        sheet.push_str("</row>");
    }
    let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    let files = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#.to_string()),
        ("xl/workbook.xml", format!(r#"<workbook xmlns="{main}"><sheets><sheet name="Staff" sheetId="1"/></sheets></workbook>"#)),
        ("xl/sharedStrings.xml", format!(r#"<sst xmlns="{main}" count="{k}" uniqueCount="{k}">{strings}</sst>"#)),
        ("xl/worksheets/sheet1.xml", format!(r#"<worksheet xmlns="{main}"><sheetData>{sheet}</sheetData></worksheet>"#)),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, content) in files {
        zip.start_file(name, opts).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

pub const BOUNDARY: &str = "----sluice-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body: `(field name, file name, content type, bytes)`.
pub fn multipart(parts: &[(&str, Option<&str>, &str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file, ctype, data) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(f) => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n")
                    .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(format!("Content-Type: {ctype}\r\n\r\n").as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A customer list of `n` rows headed 姓名,電話,電郵 with distinct Macau mobiles.
pub fn customers_csv(n: u32) -> Vec<u8> {
    let mut s = String::from("姓名,電話,電郵\n");
    for i in 0..n {
        s.push_str(&format!(
            "客戶{i},6{:03} {:04},client{i}@example.mo\n",
            100 + i % 900,
            1000 + i
        ));
    }
    s.into_bytes()
}

/// `n` rows of a staff list with no header, distinct enough to compress as
/// real data does (a hex column), for files cut into pieces.
pub fn staff_rows(n: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{i},陳大文{},6{:03} {:04},{:x}\n",
                i % 97,
                i % 1000,
                (i * 37) % 10_000,
                i * 7919
            )
        })
        .collect()
}

/// A zip holding `data` as `name`, deflated.
pub fn deflated_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file(name, opts).unwrap();
    z.write_all(data).unwrap();
    z.finish().unwrap().into_inner()
}
