//! Decoder throughput with a sink that does nothing: the ceiling the detectors
//! work under. JSON chat, dense Chinese text, CSV, an HTML table, multipart and
//! media paths.
//!
//! `json_mixed` has the shape of `benches/inspect.rs`'s `mixed_json` (one chat
//! message per line), so the decoder's share of `engine/mixed_json` shows here.
//!
//! `cargo bench --bench decode -- --warm-up-time 1 --measurement-time 2 json`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sluice::inspect::{ContentHint, Limits, Scanner, TextSink};

#[derive(Default)]
struct NullSink {
    bytes: u64,
}

impl TextSink for NullSink {
    fn field(&mut self, name: &[u8]) {
        self.bytes += name.len() as u64;
    }
    fn text(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
    }
    fn boundary(&mut self) {}
}

fn chat_message(i: usize) -> String {
    format!(
        r#"{{"robotCode":"dingabc{i}","openConversationId":"cid{i}==","msgKey":"sampleText","msgParam":"{{\"content\":\"Hi team, the meeting with 客戶 about the 季度報告 moves to 3pm, room {i}. 請準備好資料,謝謝!\"}}"}}"#
    )
}

#[path = "support/corpus.rs"]
mod corpus;
use corpus::{mixed_json, png, Rng};

fn scan(body: &[u8], hint: &ContentHint, limits: &Limits, chunk: usize) -> u64 {
    let mut s = Scanner::new(NullSink::default(), limits, hint.clone());
    for c in body.chunks(chunk) {
        s.feed(c);
    }
    let (sink, report) = s.finish();
    sink.bytes + report.bytes
}

fn benches(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("decode");

    let json_body = {
        let msgs: Vec<String> = (0..4000).map(chat_message).collect();
        format!("[{}]", msgs.join(",")).into_bytes()
    };
    let json_hint = ContentHint::content_type("application/json");
    g.throughput(Throughput::Bytes(json_body.len() as u64));
    g.bench_function("json_chat_1body", |b| {
        b.iter(|| black_box(scan(&json_body, &json_hint, &limits, 16 << 10)))
    });

    // 64 KiB chunks, as `engine/mixed_json` feeds them.
    let mixed = mixed_json(&mut Rng(0x2545_F491_4F6C_DD1D), 4 << 20);
    g.throughput(Throughput::Bytes(mixed.len() as u64));
    g.bench_function("json_mixed", |b| {
        b.iter(|| black_box(scan(&mixed, &json_hint, &limits, 64 << 10)))
    });

    let notice_body = {
        let text = "Dear colleagues, 請注意:下週一起辦公室搬遷至新口岸,the IT team will move all desktops over the weekend. 如有問題請聯絡行政部。 ".repeat(6);
        let msgs: Vec<String> = (0..1000)
            .map(|i| format!(r#"{{"agent_id":{i},"userid_list":"user{i},user{}","msg":{{"msgtype":"text","text":{{"content":"{text}"}}}}}}"#, i + 1))
            .collect();
        format!("[{}]", msgs.join(",")).into_bytes()
    };
    g.throughput(Throughput::Bytes(notice_body.len() as u64));
    g.bench_function("json_notices_1body", |b| {
        b.iter(|| black_box(scan(&notice_body, &json_hint, &limits, 16 << 10)))
    });

    let small: Vec<Vec<u8>> = (0..1000).map(|i| chat_message(i).into_bytes()).collect();
    let small_total: usize = small.iter().map(Vec::len).sum();
    g.throughput(Throughput::Bytes(small_total as u64));
    g.bench_function("json_chat_small_bodies", |b| {
        b.iter(|| {
            small
                .iter()
                .map(|m| scan(m, &json_hint, &limits, 16 << 10))
                .sum::<u64>()
        })
    });

    let chinese = "根據個人資料保護法,本公司員工的健康紀錄與身份證明文件不得傳送至境外伺服器。"
        .repeat(12_000);
    g.throughput(Throughput::Bytes(chinese.len() as u64));
    g.bench_function("dense_chinese_text", |b| {
        b.iter(|| {
            black_box(scan(
                chinese.as_bytes(),
                &ContentHint::default(),
                &limits,
                16 << 10,
            ))
        })
    });

    let csv = {
        let mut s = String::from("name,hkid,phone,note\r\n");
        for i in 0..20_000 {
            s.push_str(&format!(
                "\"Chan, Tai Man {i}\",A{i:06}(7),+853 6612 {i:04},住院 {i}\r\n"
            ));
        }
        s.into_bytes()
    };
    let csv_hint = ContentHint::content_type("text/csv");
    g.throughput(Throughput::Bytes(csv.len() as u64));
    g.bench_function("csv", |b| {
        b.iter(|| black_box(scan(&csv, &csv_hint, &limits, 16 << 10)))
    });

    // The same CSV compressed as people send it: throughput counts the CSV's
    // bytes, so each figure reads against `csv` (the decoder's cost on top).
    {
        use std::io::Write;
        let gz = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&csv).unwrap();
            e.finish().unwrap()
        };
        let xz = {
            let opts = lzma_rust2::XzOptions::with_preset(6);
            let mut w = lzma_rust2::XzWriter::new(Vec::new(), opts).unwrap();
            w.write_all(&csv).unwrap();
            w.finish().unwrap()
        };
        let bz2 = {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            e.write_all(&csv).unwrap();
            e.finish().unwrap()
        };
        let sevenz = {
            use sevenz_rust2::{ArchiveEntry, ArchiveWriter};
            let mut w = ArchiveWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
            w.push_archive_entry(ArchiveEntry::new_file("staff.csv"), Some(&csv[..]))
                .unwrap();
            w.finish().unwrap().into_inner()
        };
        // WinRAR's formats, 5 and 4 (solid, as WinRAR 3 and 4 users set it).
        let rar = |format, solid| {
            let mut b = rars::Builder::new(format).solid(solid);
            b.add_bytes(b"staff.csv".to_vec(), csv.clone(), None, None)
                .unwrap();
            b.to_bytes().unwrap()
        };
        let rar5 = rar(rars::ArchiveVersion::Rar50, false);
        let rar4 = rar(rars::ArchiveVersion::Rar29, true);
        let named = |name: &str| ContentHint {
            file_name: Some(name.to_owned()),
            ..ContentHint::default()
        };
        g.throughput(Throughput::Bytes(csv.len() as u64));
        for (name, body, hint) in [
            ("csv_gzip", gz, named("staff.csv.gz")),
            ("csv_xz", xz, named("staff.csv.xz")),
            ("csv_bzip2", bz2, named("staff.csv.bz2")),
            ("csv_7z", sevenz, named("staff.7z")),
            ("csv_rar5", rar5, named("staff.rar")),
            ("csv_rar4", rar4, named("staff.rar")),
        ] {
            g.bench_function(name, |b| {
                b.iter(|| black_box(scan(&body, &hint, &limits, 16 << 10)))
            });
        }
    }

    let multipart = {
        let mut m = b"--bnd\r\nContent-Disposition: form-data; name=\"media\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n".to_vec();
        m.extend_from_slice(
            "Meeting notes 會議紀錄 with the client.\r\n"
                .repeat(25_000)
                .as_bytes(),
        );
        m.extend_from_slice(b"\r\n--bnd--\r\n");
        m
    };
    let mp_hint = ContentHint::content_type("multipart/form-data; boundary=bnd");
    g.throughput(Throughput::Bytes(multipart.len() as u64));
    g.bench_function("multipart_text_file", |b| {
        b.iter(|| black_box(scan(&multipart, &mp_hint, &limits, 16 << 10)))
    });

    // A staff list saved as a web page: tags, attributes, references, cells.
    let html = {
        let mut h = String::from("<!DOCTYPE html><html><head><style>td{padding:2px}</style></head><body><table><tr><th>姓名</th><th>電話</th><th>備註</th></tr>\n");
        for i in 0..20_000 {
            h.push_str(&format!(
                "<tr><td class=\"name\">陳大文 {i}</td><td>6612&nbsp;{:04}</td><td><span style=\"color:#333\">Macau &amp; Taipa</span></td></tr>\n",
                i % 10_000
            ));
        }
        h.push_str("</table></body></html>\n");
        h.into_bytes()
    };
    let html_hint = ContentHint::content_type("text/html; charset=utf-8");
    g.throughput(Throughput::Bytes(html.len() as u64));
    g.bench_function("html_table", |b| {
        b.iter(|| black_box(scan(&html, &html_hint, &limits, 16 << 10)))
    });

    let media = png(&vec![0xa5; 8 << 20], 8 << 10);
    g.throughput(Throughput::Bytes(media.len() as u64));
    g.bench_function("media_png", |b| {
        b.iter(|| black_box(scan(&media, &ContentHint::default(), &limits, 64 << 10)))
    });
    g.finish();
}

criterion_group!(decode, benches);
criterion_main!(decode);
