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

fn assert_lacks(name: &str, joined: &str, unwanted: &[&str]) {
    for not in unwanted {
        assert!(
            !joined.contains(not),
            "{name}: {not:?} should not be read in {joined:?}"
        );
    }
}

// ---------------------------------------------------------------- RTF ----

#[test]
fn rtf_word_comment_is_read_apart_from_the_body() {
    // As Word writes a comment: initials, author, then the comment itself
    // after the commented text.
    let input = br"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Calibri;}}\pard Please check{\*\atrfstart 1} this{\*\atrfend 1}{\*\atnid CTM}{\*\atnauthor Chan Tai Man}\chatn{\*\annotation{\*\atnref 1}\pard\plain {\field{\*\fldinst {PAGE }}{\fldrslt }}HKID A123456(3)}\par}";
    let (sink, report) = scan("rtf comment", input);
    let joined = sink.joined_text();
    assert_has(
        "rtf comment",
        &joined,
        &["Please check this", "Chan Tai Man", "\nHKID A123456(3)\n"],
    );
    assert_lacks("rtf comment", &joined, &["CTM", "PAGE"]);
    assert_eq!(report.formats, vec!["rtf"]);
    assert_eq!(report.incomplete, None);
}

#[test]
fn rtf_starred_footnote_is_read() {
    // LibreOffice writes footnotes as a starred destination.
    let input = br"{\rtf1\ansi Staff list{\super \chftn}{\*\footnote \chftn\pard\plain \'b9\'71 Tel 6612 3456}\par}";
    let (sink, _) = scan("rtf footnote", input);
    assert_has("rtf footnote", &sink.joined_text(), &["Tel 6612 3456"]);
}

#[test]
fn rtf_text_box_is_read_once() {
    // Word writes a text box twice: in the shape's instructions (`\shptxt`)
    // and in a fallback for older readers (`\shprslt` / `\dptxbxtext`).
    let input = br"{\rtf1\ansi Body{\shp{\*\shpinst\shpleft0\shptop0{\sp{\sn shapeType}{\sv 202}}{\sp{\sn fillColor}{\sv 16777215}}{\shptxt \pard\plain Passport E12345678\par}}{\shprslt{\*\do\dobxcolumn\dobypara\dptxbx{\dptxbxtext\pard\plain Passport E12345678\par}}}}\par After}";
    let (sink, _) = scan("rtf text box", input);
    let joined = sink.joined_text();
    assert_has(
        "rtf text box",
        &joined,
        &["Body", "Passport E12345678", "After"],
    );
    assert_eq!(
        joined.matches("E12345678").count(),
        1,
        "one text box counts once: {joined:?}"
    );
    assert_lacks("rtf text box", &joined, &["shapeType", "16777215", "202"]);
}

#[test]
fn rtf_grouped_text_boxes_are_read_once() {
    // A group of shapes: each text box in its own `\shp`, one fallback for
    // the whole group.
    let input = br"{\rtf1\ansi {\shpgrp{\*\shpinst{\sp{\sn groupLeft}{\sv 0}}{\shp{\*\shpinst{\shptxt \pard First box A123456(3)\par}}}{\shp{\*\shpinst{\shptxt \pard Second box 6612 3456\par}}}}{\shprslt{\*\do\dobxcolumn\dpgroup\dpcount2{\*\do\dptxbx{\dptxbxtext\pard First box A123456(3)\par}}{\*\do\dptxbx{\dptxbxtext\pard Second box 6612 3456\par}}\dpendgroup}}}\par}";
    let (sink, _) = scan("rtf grouped text boxes", input);
    let joined = sink.joined_text();
    assert_eq!(joined.matches("A123456(3)").count(), 1, "{joined:?}");
    assert_eq!(joined.matches("6612 3456").count(), 1, "{joined:?}");
}

#[test]
fn rtf_old_text_box_without_shape_is_read() {
    // Word 6 and some converters write only the drawing object.
    let input = br"{\rtf1\ansi Body {\*\do\dobxcolumn\dptxbx{\dptxbxtext\pard \u38651?\u35441? 9123 4567\par}}\par}";
    let (sink, _) = scan("rtf do text box", input);
    assert_has("rtf do text box", &sink.joined_text(), &["電話 9123 4567"]);
}

#[test]
fn rtf_dropdown_entries_are_read() {
    let input = br"{\rtf1\ansi Ward: {\field{\*\fldinst { FORMDROPDOWN }{\*\datafield 0123abcd}{\*\formfield{\fftype2\ffres25{\*\ffname Dropdown1}{\*\ffl Oncology}{\*\ffl HIV clinic}}}}{\fldrslt }}\par}";
    let (sink, _) = scan("rtf dropdown", input);
    let joined = sink.joined_text();
    assert_has("rtf dropdown", &joined, &["\nOncology\n", "\nHIV clinic\n"]);
    assert_lacks(
        "rtf dropdown",
        &joined,
        &["Dropdown1", "FORMDROPDOWN", "0123abcd"],
    );
}

#[test]
fn rtf_starred_document_properties_are_read() {
    let input = br"{\rtf1\ansi\ansicpg950{\info{\title Roster}{\*\company \'b3\'af\'a4\'f3\'a6\'b3\'ad\'ad\'a4\'bd\'a5\'71}{\*\manager Chan Tai Man}{\keywords HKID}{\*\userprops {\propname Client}\proptype30{\staticval 6612 3456}}}\pard Body\par}";
    let (sink, _) = scan("rtf properties", input);
    assert_has(
        "rtf properties",
        &sink.joined_text(),
        &[
            "Roster",
            "陳氏有限公司",
            "Chan Tai Man",
            "HKID",
            "6612 3456",
            "Body",
        ],
    );
}

#[test]
fn rtf_unicode_escape_in_a_skipped_table_drops_nothing_after() {
    // Word's list table writes each bullet as `\u-3913 ?`: the fallback `?`
    // is in the skipped table, not the first letter of the text.
    let input = br"{\rtf1\ansi\uc1{\*\listtable{\list{\listlevel{\leveltext \'01\u-3913 ?;}}}}\pard A123456(3)\par}";
    let (sink, _) = scan("rtf list bullet", input);
    assert_has("rtf list bullet", &sink.joined_text(), &["A123456(3)"]);
}

#[test]
fn rtf_ignorable_destinations_stay_skipped() {
    let input = br#"{\rtf1\ansi{\fonttbl{\f0\fswiss{\*\panose 020b0604020202020204}FontSecret;}}{\colortbl;\red1\green2\blue3;}{\stylesheet{\s0 StyleSecret;}}{\*\latentstyles\lsdstimax376{\lsdlockedexcept \lsdpriority0 LatentSecret;}}{\*\listtable{\list{\listlevel{\leveltext \'01\u-3913 ?;}}{\listname ListSecret;}}}{\*\rsidtbl \rsid123}{\*\generator GeneratorSecret;}{\*\xmlnstbl {\xmlns1 XmlnsSecret}}{\*\themedata 5468656d65536563726574}{\*\colorschememapping 3c3f786d6c}{\*\datastore 0105000002}{\*\pgdsctbl{\pgdsc0{\*\pgdscnxt0 PageSecret;}}}\pard Visible{\*\bkmkstart BookmarkSecret}{\*\bkmkend BookmarkSecret} {\field{\*\fldinst HYPERLINK "http://instruction.example/"}{\fldrslt Link text}}{\*\unknowndestination UnknownSecret}{\annotation{\stylesheet{\*\annotation HardSecret}}}\par}"#;
    let (sink, _) = scan("rtf ignorable", input);
    let joined = sink.joined_text();
    assert_has("rtf ignorable", &joined, &["Visible", "Link text"]);
    assert_lacks("rtf ignorable", &joined, &["Secret", "instruction"]);
}
