//! The legacy-Office places an audit found text dropped without a word: RTF's
//! starred destinations that hold what a person wrote, compound files'
//! property sets and embedded documents, and Excel 97's headers, footers,
//! comments, links and drop-down lists.

use super::*;

fn scan(name: &str, input: &[u8]) -> (RecordingSink, ScanReport) {
    scan_all_ways(name, input, &hint(None, None, None), &Limits::default())
}

fn assert_has(name: &str, joined: &str, wants: &[&str]) {
    for want in wants {
        assert!(
            joined.contains(want),
            "{name}: missing {want:?} in {joined:?}"
        );
    }
}

// ---------------------------------------------------------------- RTF ----

#[test]
fn rtf_unicode_escape_in_a_skipped_table_drops_nothing_after() {
    // Word's list table writes each bullet as `\u-3913 ?`: the fallback `?`
    // is in the skipped table, not the first letter of the text.
    let input = br"{\rtf1\ansi\uc1{\*\listtable{\list{\listlevel{\leveltext \'01\u-3913 ?;}}}}\pard A123456(3)\par}";
    let (sink, _) = scan("rtf list bullet", input);
    assert_has("rtf list bullet", &sink.joined_text(), &["A123456(3)"]);
}
