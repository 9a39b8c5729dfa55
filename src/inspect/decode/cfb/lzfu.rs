//! Outlook's compressed RTF (`PR_RTF_COMPRESSED`, MS-OXRTFCP): an LZ77
//! variant over a 4 KiB window primed with common RTF words. A message
//! written in RTF or HTML may keep its only body here.

/// The window's first bytes, which references may point into before any
/// output exists (MS-OXRTFCP 3.1.3.1).
const PRIMED: &[u8; 207] = b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

const WINDOW: usize = 4096;
const COMPRESSED: &[u8; 4] = b"LZFu";
const STORED: &[u8; 4] = b"MELA";

#[derive(Debug, PartialEq, Eq)]
pub(in crate::inspect::decode) enum Error {
    /// Not a compressed-RTF header, or a type this reader does not know.
    Header,
    /// The data ends before the stream's end marker or its stated size.
    Truncated,
    /// The output would pass `max` bytes, or the size the header states.
    TooLarge,
}

/// Decompresses `data` (the whole property stream, header first), giving at
/// most `max` bytes of RTF.
pub(in crate::inspect::decode) fn decompress(data: &[u8], max: usize) -> Result<Vec<u8>, Error> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
    };
    let (Some(comp_size), Some(raw_size)) = (word(0), word(4)) else {
        return Err(Error::Header);
    };
    let kind = data.get(8..12).ok_or(Error::Header)?;
    // The stated compressed size counts from the raw size field on.
    let body_end = (comp_size as usize).saturating_add(4);
    let body = data
        .get(16..body_end.min(data.len()))
        .ok_or(Error::Header)?;
    let raw_size = raw_size as usize;
    if raw_size > max {
        return Err(Error::TooLarge);
    }
    if kind == STORED {
        return body
            .get(..raw_size)
            .map(<[u8]>::to_vec)
            .ok_or(Error::Truncated);
    }
    if kind != COMPRESSED {
        return Err(Error::Header);
    }
    let mut window = [0u8; WINDOW];
    window[..PRIMED.len()].copy_from_slice(PRIMED);
    let mut write = PRIMED.len();
    let mut out = Vec::with_capacity(raw_size.min(1 << 20));
    let mut at = 0usize;
    loop {
        let Some(&flags) = body.get(at) else {
            return Err(Error::Truncated);
        };
        at += 1;
        for bit in 0..8 {
            if flags & (1 << bit) == 0 {
                let Some(&b) = body.get(at) else {
                    return Err(Error::Truncated);
                };
                at += 1;
                window[write] = b;
                write = (write + 1) % WINDOW;
                out.push(b);
            } else {
                let (Some(&hi), Some(&lo)) = (body.get(at), body.get(at + 1)) else {
                    return Err(Error::Truncated);
                };
                at += 2;
                let reference = u16::from_be_bytes([hi, lo]);
                let mut from = usize::from(reference >> 4);
                // A reference to where the next byte would be written ends
                // the stream.
                if from == write {
                    return Ok(out);
                }
                for _ in 0..usize::from(reference & 0xF) + 2 {
                    let b = window[from];
                    window[write] = b;
                    write = (write + 1) % WINDOW;
                    from = (from + 1) % WINDOW;
                    out.push(b);
                }
            }
            // More than the header said: corrupt, and never unbounded.
            if out.len() > raw_size {
                return Err(Error::TooLarge);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// MS-OXRTFCP's own example, also what an independent implementation
    /// (Python's `compressed_rtf`) writes for it: literals, a reference into
    /// the primed window, and the end marker.
    const SPEC: &str = "2d0000002b0000004c5a4675f1c5c7a703000a007263706731323542320af32068656c090020627705b06c647d0a800fa0";

    #[test]
    fn decompresses_the_specification_example() {
        let out = decompress(&hex(SPEC), 1 << 20).unwrap();
        assert_eq!(out, b"{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n");
    }

    #[test]
    fn stored_rtf_is_taken_as_it_is() {
        let rtf = b"{\\rtf1 plain}";
        let mut data = Vec::new();
        data.extend_from_slice(&(rtf.len() as u32 + 12).to_le_bytes());
        data.extend_from_slice(&(rtf.len() as u32).to_le_bytes());
        data.extend_from_slice(STORED);
        data.extend_from_slice(&[0; 4]);
        data.extend_from_slice(rtf);
        assert_eq!(decompress(&data, 1 << 20).unwrap(), rtf);
    }

    #[test]
    fn damaged_streams_are_errors_not_panics() {
        let good = hex(SPEC);
        for cut in 0..good.len() {
            assert!(decompress(&good[..cut], 1 << 20).is_err(), "cut at {cut}");
        }
        assert_eq!(decompress(&good, 8), Err(Error::TooLarge));
        let mut unknown = good.clone();
        unknown[8..12].copy_from_slice(b"XXXX");
        assert_eq!(decompress(&unknown, 1 << 20), Err(Error::Header));
        // References that run on forever are cut at the stated size.
        let mut endless = good[..16].to_vec();
        for _ in 0..10_000 {
            endless.extend_from_slice(&[0xff, 0x00, 0x0f, 0x00, 0x0f, 0x00, 0x0f, 0x00, 0x0f]);
            endless.extend_from_slice(&[0x00, 0x0f, 0x00, 0x0f, 0x00, 0x0f, 0x00, 0x0f]);
        }
        let size = (endless.len() as u32 - 4).to_le_bytes();
        endless[0..4].copy_from_slice(&size);
        assert_eq!(decompress(&endless, 1 << 20), Err(Error::TooLarge));
    }
}
