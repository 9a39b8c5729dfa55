//! `sluice scan`, the real binary, on files built in the test.

mod support;

use support::*;

fn scan_json(args: &[&str], stdin: Option<&[u8]>) -> (i32, Vec<serde_json::Value>, String) {
    scan_json_with(args, stdin, None)
}

/// `scan_json` with `SLUICE_SIMD` set to `simd` (or unset).
fn scan_json_with(
    args: &[&str],
    stdin: Option<&[u8]>,
    simd: Option<&str>,
) -> (i32, Vec<serde_json::Value>, String) {
    use std::io::Write;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.arg("scan").arg("--json").args(args);
    cmd.env_remove("SLUICE_SIMD");
    if let Some(v) = simd {
        cmd.env("SLUICE_SIMD", v);
    }
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(data) = stdin {
        child.stdin.take().unwrap().write_all(data).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `sluice scan --json` on one input that must succeed: its one JSON line.
fn scan_one(args: &[&str], stdin: Option<&[u8]>) -> serde_json::Value {
    let (code, mut lines, err) = scan_json(args, stdin);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines.remove(0)
}

/// Writes each `(name, bytes)` into `dir`; their paths, in order.
fn write_files(dir: &std::path::Path, files: &[(&str, &[u8])]) -> Vec<String> {
    files
        .iter()
        .map(|(name, data)| {
            let p = dir.join(name);
            std::fs::write(&p, data).unwrap();
            p.display().to_string()
        })
        .collect()
}

#[test]
fn classifies_files_by_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, data: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p.display().to_string()
    };
    let paras: Vec<String> = (0..12).map(|i| format!("身份證 {}", hkid(i))).collect();
    let docx_path = write("staff.docx", &docx(&paras));
    // A DOCX inside gzip, with a misleading name: magic bytes win over the extension.
    let gz_path = write("backup.bin", &gzip(&docx(&paras)));
    let csv_path = write("customers.csv", &customers_csv(50));
    // A PNG's framing (header, image data, end), its data as random as
    // compressed pixels are.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\x10\0IDAT".to_vec();
    png.extend(pseudo_random(4096, 5));
    png.extend_from_slice(b"CRC!\0\0\0\0IENDCRC!");
    let png_path = write("photo.png", &png);

    let (code, lines, err) = scan_json(&[&docx_path, &gz_path, &csv_path, &png_path], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["path"], docx_path.as_str());
    assert_eq!(lines[0]["classes"]["hk_id"], 12, "{}", lines[0]);
    assert_eq!(lines[0]["categories"]["identity"], 12);
    assert!(lines[0]["incomplete"].is_null());
    assert_eq!(
        lines[1]["classes"]["hk_id"], 12,
        "gzip > docx: {}",
        lines[1]
    );
    assert!(
        lines[2]["classes"]["phone"].as_u64().unwrap() >= 50,
        "{}",
        lines[2]
    );
    assert!(
        lines[2]["classes"]["email"].as_u64().unwrap() >= 50,
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3]["classes"],
        serde_json::json!({}),
        "media is skipped: {}",
        lines[3]
    );
    assert_eq!(lines[3]["bytes"], png.len() as u64);
    // Never a raw value in the output.
    let all: String = lines.iter().map(|l| l.to_string()).collect();
    assert!(!all.contains(&hkid(0)));

    // `copy /b photo.png + staff.docx photo.png`: the picture is passed
    // over to its last chunk, and the document after it is read.
    let mut hidden = png.clone();
    hidden.extend_from_slice(&docx(&paras));
    let hidden_path = write("holiday.png", &hidden);
    let (code, lines, err) = scan_json(&[&hidden_path], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines[0]["classes"]["hk_id"], 12, "{}", lines[0]);
    assert!(lines[0]["incomplete"].is_null(), "{}", lines[0]);
}

/// An HR sheet as a Macau office keeps one: Macau identity numbers written
/// as eight plain digits under their column, passports of other countries,
/// mobiles, and accounts with the check digit set apart. Each column counts
/// as what its header names; before, the ids starting 5 or 7 read as Hong
/// Kong lines and others as accounts, by the headers' nearness alone (and
/// so they did under a title row, which was taken for the header).
#[test]
fn an_hr_sheet_is_read_column_by_column() {
    let dir = tempfile::tempdir().unwrap();
    let header = ["姓名", "BIR編號", "Passport No.", "手提電話", "銀行帳號"];
    let mut rows = vec![header.map(String::from).to_vec()];
    for i in 0..12u32 {
        rows.push(vec![
            format!("員工{i}"),
            format!(
                "{}{:07}",
                [1, 5, 7, 8][i as usize % 4],
                1_234_567 + i * 7919
            ),
            format!("K{:08}", 31_234_567 + i * 104_729),
            format!("6{:07}", 6_123_450 + i),
            format!("18-01-20-{:06}-{}", 123_456 + i * 31, i % 10),
        ]);
    }
    // Most office sheets open with a title above the table (and an empty
    // row): the header under it names the columns all the same, in the
    // workbook and in the CSV Excel saves from it.
    let mut titled = vec![vec!["2026年11月新入職員工資料".to_string()], vec![]];
    titled.extend(rows.iter().cloned());
    let csv: String = titled
        .iter()
        .map(|r| format!("{}\r\n", r.join(",")))
        .collect();
    let paths = write_files(
        dir.path(),
        &[
            ("staff.xlsx", &xlsx(&rows)),
            ("titled.xlsx", &xlsx(&titled)),
            ("titled.csv", csv.as_bytes()),
        ],
    );
    for path in &paths {
        let line = scan_one(&[path], None);
        assert_eq!(
            line["classes"],
            serde_json::json!({"macau_id": 12, "passport": 12, "phone": 12, "bank_account": 12}),
            "{path}: {line}"
        );
    }
}

/// DingTalk's approval JSON sends each answer as a `name` and a `value`:
/// the label names the answer after it, as in the form the employee filled.
#[test]
fn an_approval_form_is_read_by_its_labels() {
    let body = r#"{"process_code":"PROC-1","originator_user_id":"u1","form_component_values":[{"name":"申請人","value":"陳大文"},{"name":"身份證編號","value":"51234567"},{"name":"手提電話","value":"66123456"},{"name":"銀行帳號","value":"9012345678"},{"name":"護照號碼","value":"K12345678"}]}"#;
    let line = scan_one(&["-"], Some(body.as_bytes()));
    assert_eq!(
        line["classes"],
        serde_json::json!({"macau_id": 1, "passport": 1, "phone": 1, "bank_account": 1}),
        "{line}"
    );
}

/// A robot's `markdown` message with a staff table: each cell is read under
/// its column, so the BIR column's plain eight digits are identity numbers,
/// and neither Hong Kong lines nor accounts.
#[test]
fn a_robot_markdown_table_is_read_by_its_columns() {
    let text = "#### 十一月新入職員工\n\n| 姓名 | BIR | 手提電話 | 銀行帳號 |\n| --- | --- | --- | --- |\n\
                | 陳大文 | 51234567 | 66123456 | 0119000012345678 |\n\
                | 李小明 | 71234568 | 62345678 | 0119000012345679 |\n";
    let body = serde_json::json!({
        "msgtype": "markdown",
        "markdown": {"title": "新入職", "text": text},
    });
    let line = scan_one(&["-"], Some(body.to_string().as_bytes()));
    assert_eq!(
        line["classes"],
        serde_json::json!({"macau_id": 2, "phone": 2, "bank_account": 2}),
        "{line}"
    );
}

/// A mail or rich-text body sent as JSON carries its HTML in a string: its
/// table is read as a web page's, by column.
#[test]
fn an_html_table_in_a_json_string_is_read_by_its_columns() {
    let rows: String = [("陳大文", "51234567"), ("李小明", "71234568")]
        .iter()
        .map(|(name, bir)| format!("<tr><td>{name}</td><td>{bir}</td></tr>"))
        .collect();
    let body = serde_json::json!({
        "subject": "新同事",
        "content": format!("<p>名單</p><table><tr><th>姓名</th><th>BIR</th></tr>{rows}</table>"),
    });
    let line = scan_one(&["-"], Some(body.to_string().as_bytes()));
    assert_eq!(
        line["classes"],
        serde_json::json!({"macau_id": 2}),
        "{line}"
    );
}

/// A form saved as a web page (or an e-mail's HTML part): each label in one
/// cell and its answer in the next.
#[test]
fn an_html_form_is_read_by_its_labels() {
    let page = r#"<html><body><table>
  <tr><th>項目</th><th>內容</th></tr>
  <tr><td class="k">姓名</td><td class="v">陳大文</td></tr>
  <tr><td class="k">BIR</td><td class="v">51234567</td></tr>
  <tr><td class="k">Passport No.</td><td class="v">K12345678</td></tr>
  <tr><td class="k">員工編號</td><td class="v">71234567</td></tr>
</table></body></html>"#;
    let line = scan_one(&["-"], Some(page.as_bytes()));
    assert_eq!(
        line["classes"],
        serde_json::json!({"macau_id": 1, "passport": 1}),
        "{line}"
    );
}

/// Four bytes of `OggS` (or `ID3`) before a customer list do not pass it
/// as audio: media whose end no framing tells is looked at to its end, and
/// its text read; a document joined after it is opened. The same audio with
/// no text in it reports nothing.
#[test]
fn a_customer_list_behind_an_audio_header_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let audio = |head: &[u8], hidden: &[u8]| {
        let mut out = head.to_vec();
        out.extend(pseudo_random(8192, 7));
        out.extend_from_slice(hidden);
        out.extend(pseudo_random(8192, 8));
        out
    };
    let list = customers_csv(50);
    let paths = write_files(
        dir.path(),
        &[
            ("voice.ogg", &audio(b"OggS\0\x02", &list)),
            ("song.mp3", &audio(b"ID3\x04\0\0\0\0\0\0", &list)),
            ("clean.ogg", &audio(b"OggS\0\x02", b"")),
        ],
    );
    // `copy /b song.mp3 + staff.docx`: the document after the audio is read.
    let paras: Vec<String> = (0..5).map(|i| format!("身份證 {}", hkid(i))).collect();
    let mut joined = audio(b"ID3\x04\0\0\0\0\0\0", b"");
    joined.extend_from_slice(&docx(&paras));
    let joined_path = write_files(dir.path(), &[("mixtape.mp3", &joined)]);
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (code, lines, err) = scan_json(&args, None);
    assert_eq!(code, 0, "{err}");
    for line in &lines[..2] {
        // Read as text, not as a table: the phones near the `電話` header
        // count (a Macau mobile needs context), every e-mail does.
        assert!(line["classes"]["phone"].as_u64().unwrap() > 0, "{line}");
        assert_eq!(line["classes"]["email"], 50, "{line}");
        assert!(line["incomplete"].is_null(), "{line}");
    }
    assert_eq!(lines[2]["classes"], serde_json::json!({}), "{}", lines[2]);
    assert!(lines[2]["incomplete"].is_null(), "{}", lines[2]);
    let (code, lines, err) = scan_json(&[&joined_path[0]], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines[0]["classes"]["hk_id"], 5, "{}", lines[0]);
    assert!(lines[0]["incomplete"].is_null(), "{}", lines[0]);
}

/// `SLUICE_SIMD=sse2` keeps an x86_64 machine to its 16-byte kernels: the
/// findings are the same as the widest pass's, byte for byte. A value it
/// does not know stops the command before anything is scanned.
#[test]
fn the_narrow_kernels_find_what_the_wide_ones_do() {
    let dir = tempfile::tempdir().unwrap();
    let paras: Vec<String> = (0..12).map(|i| format!("身份證 {}", hkid(i))).collect();
    let chat: String = (0..200u32)
        .map(|i| {
            let text = match i % 4 {
                0 => format!("user{i} 電話 6123 45{:02}，請查收", i % 100),
                1 => format!("cid0a3f{i:04x} 附上醫生紙，請批准病假 {}", hkid(i)),
                2 => "Please review the quarterly report before Friday.".to_string(),
                _ => format!("mail chan{i}@example.com card 4111 1111 1111 1111"),
            };
            serde_json::json!({"text": {"content": text}, "ts": 1_764_384_000_000u64 + u64::from(i)})
                .to_string()
                + "\n"
        })
        .collect();
    let mut audio = b"OggS\0\x02".to_vec();
    audio.extend(pseudo_random(8192, 7));
    audio.extend_from_slice(&customers_csv(40));
    audio.extend(pseudo_random(8192, 8));
    let paths = write_files(
        dir.path(),
        &[
            ("staff.docx", &docx(&paras)),
            ("customers.csv", &customers_csv(300)),
            ("chat.json", chat.as_bytes()),
            ("voice.ogg", &audio),
        ],
    );
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (code, wide, err) = scan_json_with(&args, None, None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(wide.len(), 4);
    for line in &wide {
        assert_ne!(line["classes"], serde_json::json!({}), "{line}");
    }
    if cfg!(target_arch = "x86_64") {
        let (code, narrow, err) = scan_json_with(&args, None, Some("sse2"));
        assert_eq!(code, 0, "{err}");
        assert_eq!(narrow, wide);
    }
    for bad in ["avx2", "SSE2"] {
        let (code, lines, err) = scan_json_with(&args, None, Some(bad));
        assert_eq!(code, 1, "{bad}");
        assert!(lines.is_empty(), "{bad}: {lines:?}");
        assert!(err.contains("SLUICE_SIMD") && err.contains(bad), "{err}");
    }
}

#[test]
fn stdin_content_type_and_missing_files() {
    let body = serde_json::json!({"text": {"content": format!("ID {}", hkid(3))}}).to_string();
    let (code, lines, _) = scan_json(
        &["--content-type", "application/json", "-"],
        Some(body.as_bytes()),
    );
    assert_eq!(code, 0);
    assert_eq!(lines[0]["path"], "-");
    assert_eq!(lines[0]["classes"]["hk_id"], 1);

    let (code, lines, err) = scan_json(&["/nonexistent/file.docx"], None);
    assert_eq!(code, 1);
    assert!(lines.is_empty());
    assert!(err.contains("/nonexistent/file.docx"), "{err}");
}

#[test]
fn a_bomb_is_incomplete_not_clean() {
    // 200 MiB of zeros, gzipped: the ratio limit stops it quickly.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..200 {
        std::io::Write::write_all(&mut e, &zeros).unwrap();
    }
    let gz = e.finish().unwrap();
    let (code, lines, _) = scan_json(&["-"], Some(&gz));
    assert_eq!(code, 0);
    let reason = lines[0]["incomplete"].as_str().expect("incomplete");
    assert!(
        reason.contains("ratio") || reason.contains("size"),
        "{reason}"
    );
}

#[test]
fn an_endless_input_stops_at_the_body_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("small.yaml");
    std::fs::write(&cfg, "inspect:\n  limits:\n    max_body_bytes: 1000000\n").unwrap();
    let (code, lines, err) = scan_json(&["--config", cfg.to_str().unwrap(), "/dev/zero"], None);
    assert_eq!(code, 0, "{err}");
    let reason = lines[0]["incomplete"].as_str().expect("incomplete");
    assert!(reason.starts_with("size_limit"), "{reason}");
}

/// Ordinary developer files, each shaped after a false finding that scanning
/// crate sources, Debian docs and HAR captures turned up: none of them holds
/// personal data, and none may report any.
#[test]
fn developer_files_report_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files: [(&str, &str); 7] = [
        (
            // Front matter opens with `---`: not a multipart body (which would
            // end incomplete, and be blocked by default).
            "HACKING.md",
            "---\ntitle: Hacking on systemd\ncategory: Contributing\n---\n\n# Hacking\n\nWe welcome all contributions.\n",
        ),
        (
            "icons.css",
            r#".fa-file-medical:before{content:"\f477"}.fa-file-prescription:before{content:"\f572"}.fa-prescription-bottle-alt:before{content:"\f486"}.fa-procedures:before{content:"\f487"}"#,
        ),
        (
            "termios.rs",
            "pub const B3500000: u32 = 4110;\npub const B4000000: u32 = 4111;\npub const B1152000: u32 = 4105;\n",
        ),
        (
            "copyright",
            "Files: *\nCopyright: 2005-2008 Divmod, Inc.\n 2008-2011 Johan Dahlin\n 2012-2015 Nippon Telegraph and Telephone Corporation\n",
        ),
        (
            "perf.txt",
            "Limited by a sheer amount of NEON instructions.\nCycles per byte: A7 2.39 1.20 1.20\nA53 1.32 1.29 1.46\nA57 1.95 0.85 0.93\n",
        ),
        (
            "repo.json",
            r#"{"name":"mitmproxy","ssh_url":"git@github.com:mitmproxy/mitmproxy.git","created_at":"2010-02-16","pushed_at":"2026-11-20","size":58213}"#,
        ),
        (
            "changelog",
            "v1.4 (2026-11-20): release notes, tel 2026-11-20 build; see account no. 2012-2015 archive\n",
        ),
    ];
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, t)| (*n, t.as_bytes())).collect();
    let paths = write_files(dir.path(), &files);
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (code, lines, err) = scan_json(&args, None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines.len(), files.len());
    for line in &lines {
        assert_eq!(line["classes"], serde_json::json!({}), "{line}");
        assert!(line["incomplete"].is_null(), "{line}");
    }
}

/// Word 97 and Excel 97 files as LibreOffice writes them: their text is
/// UTF-16 and their numbers binary, so a byte-level scan saw none of it.
#[test]
fn legacy_office_files_are_read() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let doc = format!("{dir}/tests/fixtures/legacy/staff.doc");
    let xls = format!("{dir}/tests/fixtures/legacy/staff.xls");
    let (code, lines, err) = scan_json(&[&doc, &xls], None);
    assert_eq!(code, 0, "{err}");
    let [doc, xls] = &lines[..] else {
        panic!("two results: {lines:?}");
    };
    assert_eq!(doc["classes"]["hk_id"], 1, "{doc}");
    assert_eq!(doc["classes"]["phone"], 1, "{doc}");
    assert!(doc["classes"]["health"].as_u64() >= Some(1), "{doc}");
    assert!(doc["incomplete"].is_null(), "{doc}");
    // Both numeric phone cells count under their 電話 column.
    assert_eq!(xls["classes"]["phone"], 2, "{xls}");
    assert_eq!(xls["classes"]["hk_id"], 1, "{xls}");
    assert!(xls["incomplete"].is_null(), "{xls}");
}

/// A PDF whose fonts are not embedded and whose codes are Big5 and GBK bytes
/// (predefined CMaps), as ReportLab and older Chinese software write them.
#[test]
fn pdf_text_in_legacy_cjk_encodings_is_read() {
    let pdf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/legacy/leave-big5-gbk.pdf"
    );
    let (code, lines, err) = scan_json(&[pdf], None);
    assert_eq!(code, 0, "{err}");
    let [pdf] = &lines[..] else {
        panic!("one result: {lines:?}");
    };
    assert_eq!(pdf["classes"]["prc_id"], 1, "{pdf}");
    assert_eq!(pdf["classes"]["phone"], 1, "{pdf}");
    assert!(pdf["classes"]["health"].as_u64() >= Some(2), "{pdf}");
    assert!(pdf["incomplete"].is_null(), "{pdf}");
}

/// Archives and compressed files as 7-Zip, XZ Utils and bzip2 write them,
/// and zips whose entries use the methods 7-Zip offers besides Deflate.
/// They used to be named and blocked as unread; a password-protected 7z
/// still cannot be read, and says so whether or not its names are hidden.
#[test]
fn archives_from_7zip_xz_and_bzip2_are_read() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/archives");
    let files = [
        "hr.7z",
        "hr.tar.xz",
        "staff.csv.bz2",
        "hr-password.7z",
        "hr-hidden.7z",
        "methods.zip",
        "hr-deflate.7z",
    ]
    .map(|f| format!("{dir}/{f}"));
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let (code, lines, err) = scan_json(&args, None);
    assert_eq!(code, 0, "{err}");
    let [seven, tar_xz, bz2, password, hidden, methods, deflate] = &lines[..] else {
        panic!("seven results: {lines:?}");
    };
    for read in [seven, tar_xz, deflate] {
        assert_eq!(read["classes"]["hk_id"], 1, "{read}");
        // Both phones count under the 電話 column, and the leave note is health.
        assert_eq!(read["classes"]["phone"], 2, "{read}");
        assert!(read["classes"]["health"].as_u64() >= Some(1), "{read}");
        assert!(read["incomplete"].is_null(), "{read}");
    }
    assert_eq!(bz2["classes"]["phone"], 2, "{bz2}");
    assert!(bz2["incomplete"].is_null(), "{bz2}");
    // Zip entries in each method 7-Zip offers: 50 phones apiece.
    assert_eq!(methods["classes"]["phone"], 200, "{methods}");
    assert!(methods["incomplete"].is_null(), "{methods}");
    for locked in [password, hidden] {
        assert_eq!(locked["classes"], serde_json::json!({}), "{locked}");
        let why = locked["incomplete"].as_str().unwrap_or_default();
        assert!(why.starts_with("encrypted"), "{locked}");
    }
}

/// Text that was escaped or encoded on the way out: an HTML page whose
/// Chinese is character references (what mail clients and editors write),
/// and a CSV whose English header row hides the Big5 rows under it. Both
/// read as nothing but their ASCII digits when scanned as bytes. And an HTML
/// table, whose heading names its column for every row.
#[test]
fn escaped_and_late_encoded_text_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let refs = |s: &str| -> String { s.chars().map(|c| format!("&#x{:X};", c as u32)).collect() };
    let html = format!(
        "<!DOCTYPE html>\n<html><body><table><tr><td>{}</td><td>6123&nbsp;4567</td></tr>\
         <tr><td>{}</td><td>{} {}</td></tr></table></body></html>\n",
        refs("電話"),
        refs("備註"),
        refs("醫生紙"),
        refs("病假三天"),
    );
    let html_path = dir.path().join("leave.html");
    std::fs::write(&html_path, html).unwrap();
    let mut csv = b"Name,Phone,Note\r\n".to_vec();
    for i in 0..30 {
        csv.extend_from_slice(format!("Staff {i},6612 34{i:02},ok\r\n").as_bytes());
    }
    for _ in 0..3 {
        let (big5, _, _) = encoding_rs::BIG5.encode("陳大文,6698 7654,醫生紙 病假\r\n");
        csv.extend_from_slice(&big5);
    }
    let csv_path = dir.path().join("staff.csv");
    std::fs::write(&csv_path, csv).unwrap();
    // A staff list saved as a web page: its 電話 heading is far from most of
    // its numbers, and names their column as a CSV's header does.
    let mut table =
        "<html><body><table><tr><th>姓名</th><th>電話</th><th>備註</th></tr>\n".to_string();
    for i in 0..40 {
        table.push_str(&format!(
            "<tr><td>Staff member number {i}</td><td>66{i:02} 12{i:02}</td>\
             <td>A remark long enough to keep the heading out of reach</td></tr>\n"
        ));
    }
    table.push_str("</table></body></html>\n");
    let table_path = dir.path().join("staff.htm");
    std::fs::write(&table_path, table).unwrap();
    let (code, lines, err) = scan_json(
        &[
            &html_path.display().to_string(),
            &csv_path.display().to_string(),
            &table_path.display().to_string(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let [html, csv, table] = &lines[..] else {
        panic!("three results: {lines:?}");
    };
    assert_eq!(table["classes"]["phone"], 40, "{table}");
    assert!(html["classes"]["health"].as_u64() >= Some(1), "{html}");
    assert_eq!(html["classes"]["phone"], 1, "{html}");
    assert!(html["incomplete"].is_null(), "{html}");
    assert!(csv["classes"]["health"].as_u64() >= Some(1), "{csv}");
    assert_eq!(csv["classes"]["phone"], 31, "{csv}");
}

/// What a chunked upload sends after its first request: the rest of a file
/// without its beginning. A piece of a zip is as random as compressed data
/// is, and a piece of a PDF shows its objects' syntax; neither can be read
/// on its own, and `scan` says so rather than reporting nothing found.
#[test]
fn pieces_of_a_larger_file_are_reported_unread() {
    let dir = tempfile::tempdir().unwrap();
    let rows = staff_rows(3000);
    let zip = deflated_zip("staff.csv", rows.as_bytes());
    let (first, second) = zip.split_at(zip.len() / 2);
    let pdf_piece =
        b"endobj\n9 0 obj\n<< /Length 4096 /Filter /FlateDecode >>\nstream\n\x78\x9c\xed\xbd";
    let paths = write_files(
        dir.path(),
        &[
            ("part1", first),
            ("part2", second),
            ("part3", &pdf_piece[..]),
        ],
    );
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (code, lines, err) = scan_json(&args, None);
    assert_eq!(code, 0, "{err}");
    let why: Vec<&str> = lines
        .iter()
        .map(|l| l["incomplete"].as_str().unwrap_or_default())
        .collect();
    // The start of a zip lacks the directory at its end.
    assert!(why[0].starts_with("malformed"), "{why:?}");
    assert!(
        why[1].starts_with("unsupported") && why[1].contains("compressed or encrypted"),
        "{why:?}"
    );
    assert!(
        why[2].starts_with("unsupported") && why[2].contains("part of a pdf"),
        "{why:?}"
    );
}
