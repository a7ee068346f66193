//! A QR code for the terminal: two module rows per text line with half-block characters, so a
//! phone's camera can scan the pairing link straight off the screen.
//!
//! The colours are explicit, black modules on white, whatever the terminal's theme: a code drawn
//! in the theme's own colours is inverted on a light background, and many scanners then fail.
//! Error correction is L (the screen is not a printed label that gets scratched), which with the
//! 88-character link (`docs/protocol.md` §2) keeps a LAN link's code at version 6, 41 modules:
//! 24 lines with its quiet zone, so it fits an 80×24 terminal.

use qrcode::{Color, EcLevel, QrCode};

/// Quiet zone left, right and below the code, in modules (the standard asks for 4).
const QUIET: usize = 4;

/// Quiet zone above the code: one module less, so that the odd module count of every QR
/// version (plus 3 + 4) fills whole lines; a version 6 code is then 24 lines rather than 25.
/// Against an explicit white, scanners need far less than 4.
const QUIET_TOP: usize = 3;

/// Black glyphs (ANSI 256-colour 16, #000000) on a white background (231, #ffffff): fixed
/// colours of the 256-colour cube, which themes do not remap as they do the 16 basic ones.
const BLACK_ON_WHITE: &str = "\x1b[38;5;16;48;5;231m";

/// Back to the terminal's own colours, at the end of every line.
const RESET: &str = "\x1b[0m";

/// Why a QR code could not be made.
#[derive(Debug, thiserror::Error)]
#[error("could not make a QR code of the link: {0}")]
pub struct QrError(#[from] qrcode::types::QrError);

/// Renders `text` (byte mode, error correction L) as lines of half-block characters, dark
/// modules black on white.
///
/// # Errors
/// [`QrError`] if `text` is too long for a QR code.
pub fn render(text: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L)?;
    let width = code.width();
    let colors = code.to_colors();
    let (cols, rows) = (width + 2 * QUIET, QUIET_TOP + width + QUIET);
    let dark = |x: usize, y: usize| -> bool {
        let (Some(x), Some(y)) = (x.checked_sub(QUIET), y.checked_sub(QUIET_TOP)) else {
            return false;
        };
        x < width && y < width && colors[y * width + x] == Color::Dark
    };
    let mut out = String::with_capacity(rows.div_ceil(2) * (cols * 3 + 32));
    for y in (0..rows).step_by(2) {
        out.push_str(BLACK_ON_WHITE);
        for x in 0..cols {
            // The glyph is the black part; the white background shows through the rest.
            out.push(match (dark(x, y), dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push_str(RESET);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use pairwise_proto::identity::IdentitySecret;
    use pairwise_proto::keys::PairingSecret;
    use pairwise_proto::link::PairingLink;

    use super::*;

    /// The text of each line with its colour codes removed, after checking that every line
    /// is drawn black on white and resets at its end.
    fn plain_lines(rendered: &str) -> Vec<Vec<char>> {
        rendered
            .lines()
            .map(|line| {
                let inner = line
                    .strip_prefix(BLACK_ON_WHITE)
                    .and_then(|l| l.strip_suffix(RESET))
                    .unwrap_or_else(|| panic!("line not black on white with a reset: {line:?}"));
                assert!(!inner.contains('\x1b'), "one colour per line");
                inner.chars().collect()
            })
            .collect()
    }

    /// Turns rendered text back into a greyscale image (glyphs black, background white) and
    /// decodes it with an independent decoder (rqrr), as a camera would.
    fn decode(rendered: &str) -> String {
        const SCALE: usize = 4;
        let lines = plain_lines(rendered);
        let w = lines[0].len();
        let h = lines.len() * 2;
        let module_dark = |x: usize, y: usize| {
            let c = lines[y / 2][x];
            matches!((c, y % 2), ('█', _) | ('▀', 0) | ('▄', 1))
        };
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w * SCALE, h * SCALE, |x, y| {
            if module_dark(x / SCALE, y / SCALE) {
                0
            } else {
                255
            }
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "exactly one QR code on screen");
        grids[0].decode().unwrap().1
    }

    /// The link `pairwise send` shows when the server is `pairwise serve --lan` at a long LAN
    /// address.
    fn default_lan_link() -> String {
        let key = p256::SecretKey::from_slice(&[7; 32]).unwrap();
        let link = PairingLink::new(
            PairingSecret::from_bytes([0xa5; 32]),
            IdentitySecret::new(key).public(),
        );
        format!("https://192.168.100.200:8443/#{}", link.fragment())
    }

    #[test]
    fn default_lan_link_fits_24_lines_of_80_columns_and_decodes() {
        let link = default_lan_link();
        let rendered = render(&link).unwrap();
        let lines = plain_lines(&rendered);
        assert!(lines.len() <= 24, "{} lines", lines.len());
        assert!(
            lines.iter().all(|l| l.len() <= 80),
            "{} columns",
            lines[0].len()
        );
        assert_eq!(decode(&rendered), link);
    }

    #[test]
    fn rendering_has_a_white_quiet_zone_and_even_lines() {
        let r = render("hello").unwrap();
        let lines = plain_lines(&r);
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
        assert!(
            lines[0].iter().all(|&c| c == ' '),
            "top quiet zone is white"
        );
        assert!(lines.last().unwrap().iter().all(|&c| c == ' '));
        assert!(lines.iter().all(|l| l[..QUIET].iter().all(|&c| c == ' ')));
        assert_eq!(decode(&r), "hello");
    }

    #[test]
    fn text_too_long_for_a_qr_code_is_an_error() {
        assert!(render(&"x".repeat(5000)).is_err());
    }
}
