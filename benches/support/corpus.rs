//! Generated corpora shared by the benches (deterministic, no files).
#![allow(dead_code)]

/// xorshift64*: reproducible corpora without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

pub const EN: &[&str] = &[
    "Please review the quarterly report before Friday.",
    "The meeting has moved to room 12 at 3pm, bring the slides.",
    "Can you check whether the deployment finished? The health check is green.",
    "Thanks, I will update the spreadsheet and send it to the team.",
    "Customer asked about delivery; order shipped on 2026-11-20, tracking pending.",
    "please be patient, the build takes about 20 minutes",
    "Lunch at 12:30? The new place near the office has good reviews.",
    "I've attached the draft contract, comments welcome by Monday.",
];
pub const ZH: &[&str] = &[
    "請大家在週五前審閱季度報告，謝謝。",
    "会议改到下午三点，请带上演示文稿。",
    "客戶查詢送貨時間，已經安排明天出貨。",
    "我已经更新了表格并发送给团队，请查收。",
    "今天天氣很好，我們中午一起去吃飯吧。",
    "这个项目的进度需要再确认一下，麻烦跟进。",
    "附件是合同草稿，歡迎在星期一前提出意見。",
    "系统升级将在周末进行，期间服务可能中断。",
];
pub const RARE: &[&str] = &[
    " 電話 6123 4567",
    " my HKID is A123456(3)",
    " card 4111 1111 1111 1111",
    " 附上醫生紙，請批准病假",
    " mail chan.tai.man@example.com",
    " 帳號 012-345-678901",
];

/// One to `most` office sentences, English or Chinese, and one time in twenty
/// a phrase with an identifier, a contact or a health term.
pub fn message(rng: &mut Rng, most: usize) -> String {
    let mut text = String::new();
    for _ in 0..1 + rng.below(most) {
        text.push_str(if rng.below(3) == 0 {
            rng.pick(ZH)
        } else {
            rng.pick(EN)
        });
        text.push(' ');
    }
    if rng.below(20) == 0 {
        text.push_str(rng.pick(RARE));
    }
    text
}

/// Newline-delimited JSON chat messages (English and Chinese, the odd
/// identifier or health phrase), about `size` bytes.
pub fn mixed_json(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = String::with_capacity(size + 1024);
    let mut n = 0u64;
    while out.len() < size {
        n += 1;
        let content = message(rng, 3);
        out.push_str(&format!(
            "{{\"msgtype\":\"text\",\"text\":{{\"content\":\"{content}\"}},\"sender\":\"user{}\",\"conversationId\":\"cid{:016x}\",\"ts\":{}}}\n",
            rng.below(500),
            rng.next(),
            1_764_384_000_000u64 + n * 997
        ));
    }
    out.into_bytes()
}

/// Dense Chinese office text, a line every eight sentences or so, and one
/// time in forty a phrase with an identifier, a contact or a health term;
/// about `size` bytes.
pub fn chinese(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = String::with_capacity(size + 1024);
    while out.len() < size {
        out.push_str(rng.pick(ZH));
        if rng.below(40) == 0 {
            out.push_str(rng.pick(RARE));
        }
        if rng.below(8) == 0 {
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// A PNG as libpng writes one: its header, then `data` as image data in
/// IDAT chunks of `chunk` bytes (libpng's default is 8 KiB), then its end.
/// The CRCs are not computed: nothing reads them.
pub fn png(data: &[u8], chunk: usize) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, name: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0; 4]);
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    put(&mut out, b"IHDR", &[0, 0, 4, 0, 0, 0, 4, 0, 8, 2, 0, 0, 0]);
    for piece in data.chunks(chunk) {
        put(&mut out, b"IDAT", piece);
    }
    put(&mut out, b"IEND", &[]);
    out
}

/// A baseline JPEG as a camera writes one: its opening, tables, then
/// `coded` as entropy-coded data (each 0xFF stuffed with a zero, a restart
/// marker every 4 KiB), then its end.
pub fn jpeg(coded: &[u8]) -> Vec<u8> {
    fn segment(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
        out.extend_from_slice(&[0xff, marker]);
        out.extend_from_slice(&(data.len() as u16 + 2).to_be_bytes());
        out.extend_from_slice(data);
    }
    let mut out = b"\xff\xd8".to_vec();
    segment(&mut out, 0xe0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    segment(&mut out, 0xdb, &[0; 65]);
    segment(&mut out, 0xc0, &[8, 4, 0, 4, 0, 1, 1, 0x11, 0]);
    segment(&mut out, 0xc4, &[0; 28]);
    segment(&mut out, 0xda, &[1, 1, 0, 0, 63, 0]);
    for (i, piece) in coded.chunks(4096).enumerate() {
        if i > 0 {
            out.extend_from_slice(&[0xff, 0xd0 + (i % 8) as u8]);
        }
        for &b in piece {
            out.push(b);
            if b == 0xff {
                out.push(0);
            }
        }
    }
    out.extend_from_slice(b"\xff\xd9");
    out
}
