//! Shared test vectors in `testdata/vectors/*.json`: safe names (`names.json`) and the error catalogue
//! (`errors.json`).
//!
//! Each test builds its vector file from the implementation (deterministic keys from SHA-256 of
//! fixed strings), asserting on the way that every invalid case fails with the listed code.
//! With `PAIRWISE_WRITE_VECTORS=1` it writes the file; otherwise it reads the file and checks
//! that it is exactly what the implementation produces. `web/test` checks the same files.

mod common;

use pairwise_proto::error::ErrorCode;
use pairwise_proto::name::SafeName;
use serde_json::{Value, json};

use crate::common::check_or_write;

#[test]
fn name_vectors() {
    let valid = [
        "a",
        "a.txt",
        "résumé.pdf",
        "日本.txt",
        ".hidden",
        "a..b",
        "name with spaces.txt",
        "emoji 🎉.png",
        "console.log",
        "COM10",
        "LPT0",
        "CONSOLE",
        "x.CON",
        "con_backup",
        "family \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}.jpg",
        "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}.txt",
    ];
    let long = "a".repeat(255);
    let multibyte_ok = "é".repeat(127) + "a";
    assert_eq!(multibyte_ok.len(), 255);
    let mut valid: Vec<String> = valid.iter().map(|s| (*s).to_owned()).collect();
    valid.extend([long.clone(), multibyte_ok.clone()]);
    for name in &valid {
        assert_eq!(SafeName::parse(name).unwrap().as_str(), name);
    }
    let invalid = [
        (String::new(), "empty"),
        ("../x".to_owned(), "parent path"),
        ("/etc/passwd".to_owned(), "absolute path"),
        ("a/b".to_owned(), "slash"),
        ("a\\b".to_owned(), "backslash"),
        ("C:\\x".to_owned(), "drive and backslash"),
        ("C:x".to_owned(), "drive prefix"),
        ("a:b".to_owned(), "colon (alternate data stream)"),
        (".".to_owned(), "dot"),
        ("..".to_owned(), "dot dot"),
        ("a.".to_owned(), "trailing dot"),
        ("a ".to_owned(), "trailing space"),
        ("a\u{0}b".to_owned(), "NUL"),
        ("a\nb".to_owned(), "newline"),
        ("a\u{1f}b".to_owned(), "U+001F"),
        ("a\u{7f}b".to_owned(), "DEL"),
        ("a\u{85}b".to_owned(), "U+0085 (C1 control)"),
        ("a\u{9f}b".to_owned(), "U+009F (C1 control)"),
        ("con".to_owned(), "reserved, lowercase"),
        ("CON".to_owned(), "reserved"),
        ("CON.txt".to_owned(), "reserved with extension"),
        ("nul.tar.gz".to_owned(), "reserved with two extensions"),
        ("Aux".to_owned(), "reserved, mixed case"),
        ("prn.x".to_owned(), "reserved prn"),
        ("com1".to_owned(), "reserved com1"),
        ("COM9.log".to_owned(), "reserved COM9"),
        ("lpt1".to_owned(), "reserved lpt1"),
        ("LPT9".to_owned(), "reserved LPT9"),
        (
            "invoice\u{202E}txt.exe".to_owned(),
            "U+202E right-to-left override",
        ),
        ("a\u{2066}b\u{2069}".to_owned(), "U+2066 isolate"),
        ("a\u{200E}b".to_owned(), "U+200E left-to-right mark"),
        ("a\u{61C}b".to_owned(), "U+061C Arabic letter mark"),
        ("a\u{200B}b".to_owned(), "U+200B zero width space"),
        ("\u{FEFF}a".to_owned(), "U+FEFF zero width no-break space"),
        ("a\u{2060}b".to_owned(), "U+2060 word joiner"),
        ("a\u{AD}b".to_owned(), "U+00AD soft hyphen"),
        ("\u{3164}".to_owned(), "U+3164 Hangul filler"),
        ("a\u{180E}b".to_owned(), "U+180E Mongolian vowel separator"),
        ("a".repeat(256), "256 bytes"),
        ("é".repeat(128), "256 bytes in 128 characters"),
    ];
    let invalid: Vec<Value> = invalid
        .into_iter()
        .map(|(name, why)| {
            let err = SafeName::parse(&name).expect_err(why);
            assert_eq!(err.code(), ErrorCode::BadName);
            json!({"name": name, "why": why})
        })
        .collect();
    check_or_write("names.json", &json!({"valid": valid, "invalid": invalid}));
}

#[test]
fn error_vectors() {
    let all: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|code| json!({"code": code, "sentence": code.sentence()}))
        .collect();
    check_or_write("errors.json", &Value::Array(all));
}
