//! Shared QR code vectors in `testdata/vectors/qr.json`, made with the `qrcode` crate.
//!
//! The web client draws pairing links with its own encoder (`web/lib/formats/qr.js`); this test pins what
//! it must produce. Each input is encoded in byte mode at the smallest version that fits (found
//! the way the JS encoder does: first version whose byte-mode bits fit), through the crate's
//! `Bits`, Reed-Solomon (`ec::construct_codewords`), function patterns and data placement.
//!
//! Mask choice: the crate scores masks with a dark-proportion rule (N4) that is linear rather
//! than the standard's whole 5% steps, so it may pick a different mask than ISO/IEC 18004 says.
//! Every entry therefore records `mask`, chosen here by the standard's rules (N1..N4, see
//! [`standard_penalty`]), with `rows` drawn by the crate using that mask, and `crate_mask`, the
//! crate's own pick; where the two differ, `crate_rows` holds the crate's `QrCode::with_bits`
//! symbol too, so both are checked module for module.
//!
//! With `PAIRWISE_WRITE_VECTORS=1` the file is written; otherwise it is read and must equal what
//! the crate produces now. `web/test/qr.test.js` checks the same file.

#![allow(
    clippy::unwrap_used,
    reason = "helpers outside #[test] panic on broken fixtures"
)]

use std::path::PathBuf;

use qrcode::bits::Bits;
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{Color, EcLevel, QrCode, Version, ec};
use serde_json::{Value, json};

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

fn ec_level(name: &str) -> EcLevel {
    match name {
        "L" => EcLevel::L,
        "M" => EcLevel::M,
        "Q" => EcLevel::Q,
        "H" => EcLevel::H,
        _ => panic!("bad ECL {name}"),
    }
}

/// Byte-mode bits for `data` at `version`, terminated and padded, if they fit.
fn byte_bits(data: &[u8], version: i16, ec: EcLevel) -> Option<Bits> {
    let mut bits = Bits::new(Version::Normal(version));
    bits.push_byte_data(data).ok()?;
    bits.push_terminator(ec).ok()?;
    Some(bits)
}

fn min_version(data: &[u8], ec: EcLevel) -> i16 {
    (1..=40)
        .find(|&v| byte_bits(data, v, ec).is_some())
        .unwrap_or_else(|| panic!("{} bytes do not fit", data.len()))
}

/// Largest byte-mode payload at `version`: the JS encoder's `byteCapacity`.
fn byte_capacity(version: i16, ec: EcLevel) -> usize {
    let count_bits = if version <= 9 { 8 } else { 16 };
    (Bits::new(Version::Normal(version)).max_len(ec).unwrap() - 4 - count_bits) / 8
}

/// Penalty score per ISO/IEC 18004 7.8.3 for a `size`×`size` row-major symbol (true = dark).
///
/// N1: 3 + (n − 5) for each run of n ≥ 5 same-coloured modules in a row or column. N2: 3 for
/// each 2×2 same-coloured block (overlapping). N3: 40 for each 1:1:3:1:1 dark:light:dark:light:
/// dark run with 4 light modules before or after it (outside the symbol is light). N4: 10 for
/// each whole 5% step of the dark proportion away from 50%.
fn standard_penalty(m: &[bool], size: usize) -> usize {
    const FINDER: [bool; 7] = [true, false, true, true, true, false, true];
    let mut score = 0;
    for line in 0..2 * size {
        let at = |k: usize| {
            if line < size {
                m[line * size + k]
            } else {
                m[k * size + line - size]
            }
        };
        let mut run = 1;
        for k in 1..=size {
            if k < size && at(k) == at(k - 1) {
                run += 1;
            } else {
                if run >= 5 {
                    score += run - 2;
                }
                run = 1;
            }
        }
        for k in 0..=size - 7 {
            if !(0..7).all(|j| at(k + j) == FINDER[j]) {
                continue;
            }
            let before = (k.saturating_sub(4)..k).all(|i| !at(i));
            let after = (k + 7..(k + 11).min(size)).all(|i| !at(i));
            if before || after {
                score += 40;
            }
        }
    }
    for r in 0..size - 1 {
        for c in 0..size - 1 {
            let v = m[r * size + c];
            if v == m[r * size + c + 1]
                && v == m[(r + 1) * size + c]
                && v == m[(r + 1) * size + c + 1]
            {
                score += 3;
            }
        }
    }
    let total = size * size;
    let dark = m.iter().filter(|&&d| d).count();
    score + 10 * ((dark * 20).abs_diff(total * 10) / total)
}

fn rows(m: &[bool], size: usize) -> Vec<String> {
    m.chunks(size)
        .map(|row| row.iter().map(|&d| if d { '1' } else { '0' }).collect())
        .collect()
}

fn entry(text: &str, ecl: &str) -> Value {
    let ec = ec_level(ecl);
    let data = text.as_bytes();
    let version = min_version(data, ec);
    let size = usize::try_from(Version::Normal(version).width()).unwrap();

    let raw = byte_bits(data, version, ec).unwrap().into_bytes();
    let (data_cw, ec_cw) = ec::construct_codewords(&raw, Version::Normal(version), ec).unwrap();
    let mut canvas = Canvas::new(Version::Normal(version), ec);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data_cw, &ec_cw);
    let masked: Vec<Vec<bool>> = MASKS
        .iter()
        .map(|&p| {
            let mut c = canvas.clone();
            c.apply_mask(p);
            c.into_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect()
        })
        .collect();

    let crate_code = QrCode::with_bits(byte_bits(data, version, ec).unwrap(), ec).unwrap();
    assert_eq!(crate_code.version(), Version::Normal(version));
    let crate_modules: Vec<bool> = crate_code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    let crate_mask = masked.iter().position(|m| *m == crate_modules).unwrap();

    let scores: Vec<usize> = masked.iter().map(|m| standard_penalty(m, size)).collect();
    let best = *scores.iter().min().unwrap();
    let mask = scores.iter().position(|&s| s == best).unwrap();

    let mut out = json!({
        "text": text,
        "ecl": ecl,
        "version": version,
        "mask": mask,
        "crate_mask": crate_mask,
        "size": size,
        "rows": rows(&masked[mask], size),
    });
    if crate_mask != mask {
        out["crate_rows"] = json!(rows(&crate_modules, size));
    }
    out
}

/// 131 base64url characters, deterministic: the length of a real `#pair=` fragment.
fn fragment(seed: u32) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = seed;
    (0..131)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            char::from(ALPHABET[(x >> 26) as usize])
        })
        .collect()
}

/// ASCII text of exactly `len` bytes, not just one repeated character.
fn filler(len: usize) -> String {
    "The quick brown fox jumps over the lazy dog 0123456789. "
        .chars()
        .cycle()
        .take(len)
        .collect()
}

fn all_vectors() -> Value {
    let mut cases: Vec<(String, &str)> = vec![
        ("hello".into(), "M"),
        ("HELLO WORLD".into(), "Q"),
        ("Grüße aus Köln — 東京 🔑".into(), "M"),
        ("Grüße aus Köln — 東京 🔑".into(), "H"),
        (String::new(), "L"),
    ];
    for ecl in ["L", "M", "Q", "H"] {
        cases.push(("Pairwise".into(), ecl));
        cases.push((format!("http://127.0.0.1:8080/#pair={}", fragment(1)), ecl));
        cases.push((
            format!("https://192.168.178.42:8443/#pair={}", fragment(2)),
            ecl,
        ));
    }
    cases.push((
        format!("https://pairwise-laptop.local:8443/#pair={}", fragment(3)),
        "M",
    ));
    // Inputs where the crate's linear N4 picks another mask than the standard's 5% steps.
    cases.push(("hi14".into(), "L"));
    cases.push(("hi21".into(), "L"));
    cases.push((
        "http://127.0.0.1:8080/#pair=VdRez-jsLd4tHM46shDsj5VSUPzoKCVkldZ9kin1DFkbEC40CQ9YbHieGP9Aq\
         SDjZyyreRVK1I4akHogBbqSxpopG8j_8o8SNmXayb0oCN5UVPPZ7S_EW7Tw8VzYeU7ZrsW"
            .into(),
        "M",
    ));
    // Version boundaries: exactly full, and one byte over (next version). Version 7 brings version
    // information, version 10 the 16-bit character count.
    for (version, ecl) in [(1, "M"), (1, "H"), (6, "M"), (9, "M"), (9, "L"), (13, "Q")] {
        let cap = byte_capacity(version, ec_level(ecl));
        cases.push((filler(cap), ecl));
        cases.push((filler(cap + 1), ecl));
    }
    // Larger symbols: many alignment patterns, version 32's irregular spacing, the maximum.
    cases.push((filler(byte_capacity(22, EcLevel::H)), "H"));
    cases.push((filler(byte_capacity(32, EcLevel::M) - 3), "M"));
    cases.push((filler(byte_capacity(40, EcLevel::L)), "L"));

    Value::Array(cases.iter().map(|(text, ecl)| entry(text, ecl)).collect())
}

#[test]
fn qr_vectors() {
    let value = all_vectors();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors/qr.json");
    if std::env::var("PAIRWISE_WRITE_VECTORS").as_deref() == Ok("1") {
        let text = serde_json::to_string_pretty(&value).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with PAIRWISE_WRITE_VECTORS=1", path.display()));
    let on_disk: Value = serde_json::from_str(&text).unwrap();
    assert!(
        on_disk == value,
        "qr.json differs from what the qrcode crate produces; regenerate with PAIRWISE_WRITE_VECTORS=1"
    );
}

#[test]
fn boundaries_are_where_the_standard_says() {
    // Byte-mode capacities from the standard's capacity table.
    assert_eq!(byte_capacity(1, EcLevel::L), 17);
    assert_eq!(byte_capacity(1, EcLevel::H), 7);
    assert_eq!(byte_capacity(9, EcLevel::M), 180);
    assert_eq!(byte_capacity(10, EcLevel::M), 213);
    assert_eq!(byte_capacity(40, EcLevel::L), 2953);
    assert_eq!(byte_capacity(40, EcLevel::H), 1273);
    assert_eq!(min_version(&[b'a'; 180], EcLevel::M), 9);
    assert_eq!(min_version(&[b'a'; 181], EcLevel::M), 10);
}

#[test]
fn standard_penalty_counts_each_rule() {
    // 21×21 all light: N1 = 42 lines × (3 + 16), N2 = 400 × 3, N3 = 0, N4 = 10 × 10.
    let light = vec![false; 21 * 21];
    assert_eq!(standard_penalty(&light, 21), 42 * 19 + 400 * 3 + 100);
}
