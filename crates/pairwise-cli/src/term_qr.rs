//! A QR code for the terminal: two module rows per text line with half-block characters, so a
//! phone's camera can scan the pairing link straight off the screen.
//!
//! Light modules (and the 4-module quiet zone) are drawn with blocks and dark ones with spaces,
//! which reads right on the usual light-on-dark terminal; camera apps also read the inverse.

use qrcode::{Color, EcLevel, QrCode};

/// Quiet zone around the code, in modules (the standard asks for 4).
const QUIET: usize = 4;

/// Why a QR code could not be made.
#[derive(Debug, thiserror::Error)]
#[error("could not make a QR code of the link: {0}")]
pub struct QrError(#[from] qrcode::types::QrError);

/// Renders `text` (byte mode, error correction M) as lines of half-block characters.
///
/// # Errors
/// [`QrError`] if `text` is too long for a QR code.
pub fn render(text: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let width = code.width();
    let colors = code.to_colors();
    let full = width + 2 * QUIET;
    let light = |x: usize, y: usize| -> bool {
        if x < QUIET || y < QUIET || x >= QUIET + width || y >= QUIET + width {
            return true;
        }
        colors[(y - QUIET) * width + (x - QUIET)] == Color::Light
    };
    let mut out = String::with_capacity(full * (full / 2 + 1) * 3);
    for y in (0..full).step_by(2) {
        for x in 0..full {
            // A row past the bottom edge counts as quiet zone (light).
            let (top, bottom) = (light(x, y), y + 1 >= full || light(x, y + 1));
            out.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Turns rendered text back into a greyscale image and decodes it with an independent
    /// decoder (rqrr), as a camera would.
    fn decode(rendered: &str) -> String {
        const SCALE: usize = 4;
        let lines: Vec<Vec<char>> = rendered.lines().map(|l| l.chars().collect()).collect();
        let w = lines[0].len();
        let h = lines.len() * 2;
        let module_light = |x: usize, y: usize| {
            let c = lines[y / 2][x];
            matches!((c, y % 2), ('█', _) | ('▀', 0) | ('▄', 1))
        };
        let img = rqrr::PreparedImage::prepare_from_greyscale(w * SCALE, h * SCALE, |x, y| {
            if module_light(x / SCALE, y / SCALE) {
                255
            } else {
                0
            }
        });
        let mut img = img;
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "exactly one QR code on screen");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn pairing_link_decodes_back_from_the_terminal_rendering() {
        let link = format!("https://192.168.1.20:8443/#pair={}", "AbC-_9".repeat(22));
        assert_eq!(decode(&render(&link).unwrap()), link);
    }

    #[test]
    fn rendering_has_a_quiet_zone_and_even_lines() {
        let r = render("hello").unwrap();
        let lines: Vec<&str> = r.lines().collect();
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() == lines[0].chars().count())
        );
        assert!(
            lines[0].chars().all(|c| c == '█'),
            "top quiet zone is light"
        );
        assert_eq!(decode(&r), "hello");
    }

    #[test]
    fn text_too_long_for_a_qr_code_is_an_error() {
        assert!(render(&"x".repeat(5000)).is_err());
    }
}
