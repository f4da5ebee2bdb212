//! Pictures of masks: [`mask_image`] and [`MaskSet::plot`] (PNG files through [`crate::io::write_png`]).

use super::MaskSet;
use crate::io::write_png;
use ndarray::Array2;
use std::ops::Range;
use std::path::Path;

impl MaskSet {
    /// Plots the three masks as PNG files `<prefix>_input.png`, `<prefix>_recurrent.png` and
    /// `<prefix>_readout.png` in `dir` (each entry a `scale x scale` block; E columns red, I blue when
    /// signs are known; grey lines between areas) and returns their paths.
    pub fn plot(&self, dir: &Path, prefix: &str, scale: usize) -> std::io::Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut files = Vec::new();
        let signs = self.signs.as_deref();
        for (name, mask, signs) in [
            ("input", &self.input, None),
            ("recurrent", &self.recurrent, signs),
            ("readout", &self.readout, signs),
        ] {
            let (w, h, rgb) = mask_image(mask, signs, &self.areas, scale);
            let file = dir.join(format!("{prefix}_{name}.png"));
            write_png(&file, w, h, &rgb)?;
            files.push(file);
        }
        Ok(files)
    }
}

const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [0, 0, 0];
const RED: [u8; 3] = [200, 30, 30];
const BLUE: [u8; 3] = [30, 60, 200];
const GREY: [u8; 3] = [160, 160, 160];

/// RGB image of a mask for plotting: each entry becomes a `scale x scale` block; 0 -> white, 1 -> black; when
/// `signs` (per pre column) is given, excitatory columns' ones are red (200,30,30) and inhibitory ones blue
/// (30,60,200); thin grey lines at area boundaries when `areas` is given.
///
/// Any nonzero entry counts as a one; columns beyond `signs.len()` are drawn black. Area boundaries are
/// 1-pixel grey (160,160,160) lines at the start of every area but the first, drawn vertically when the mask
/// has `areas`' total unit count of columns and horizontally when it has that many rows. `scale` 0 counts as
/// 1. Returns `(width, height, rgb)` with `width = ncols * scale`, `height = nrows * scale`, rows top-down.
pub fn mask_image(
    mask: &Array2<f32>,
    signs: Option<&[i8]>,
    areas: &[Range<usize>],
    scale: usize,
) -> (usize, usize, Vec<u8>) {
    let scale = scale.max(1);
    let (rows, cols) = mask.dim();
    let (width, height) = (cols * scale, rows * scale);
    let mut rgb = vec![255u8; width * height * 3];
    let put = |rgb: &mut [u8], x: usize, y: usize, c: [u8; 3]| {
        let i = (y * width + x) * 3;
        rgb[i..i + 3].copy_from_slice(&c);
    };
    for ((r, c), &v) in mask.indexed_iter() {
        let colour = if v == 0.0 {
            WHITE
        } else {
            match signs.and_then(|s| s.get(c)) {
                Some(&s) if s > 0 => RED,
                Some(&s) if s < 0 => BLUE,
                _ => BLACK,
            }
        };
        if colour == WHITE {
            continue;
        }
        for y in r * scale..(r + 1) * scale {
            for x in c * scale..(c + 1) * scale {
                put(&mut rgb, x, y, colour);
            }
        }
    }
    if let Some(total) = areas.iter().map(|a| a.end).max() {
        for a in areas.iter().filter(|a| a.start > 0) {
            if cols == total && a.start < cols {
                (0..height).for_each(|y| put(&mut rgb, a.start * scale, y, GREY));
            }
            if rows == total && a.start < rows {
                (0..width).for_each(|x| put(&mut rgb, x, a.start * scale, GREY));
            }
        }
    }
    (width, height, rgb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::filtered_scanlines;
    use crate::io::png_testing::{inflate_stored, parse_png, temp_png};
    use crate::mask::MultiAreaEI;
    use crate::mask::generators::tests::multi_area;
    use ndarray::{Array2, array};

    #[test]
    fn mask_image_colours_and_area_lines() {
        let mask = array![[1.0f32, 0.0, 1.0], [0.0, 1.0, 0.0]];
        let pixel = |rgb: &[u8], w: usize, x: usize, y: usize| -> [u8; 3] {
            let i = (y * w + x) * 3;
            [rgb[i], rgb[i + 1], rgb[i + 2]]
        };
        let (w, h, rgb) = mask_image(&mask, None, &[], 2);
        assert_eq!((w, h, rgb.len()), (6, 4, 72));
        for y in 0..4 {
            for x in 0..6 {
                let expected = if mask[[y / 2, x / 2]] != 0.0 { BLACK } else { WHITE };
                assert_eq!(pixel(&rgb, w, x, y), expected, "({x}, {y})");
            }
        }
        let (w, _, rgb) = mask_image(&mask, Some(&[1, -1, 1]), &[], 2);
        assert_eq!(pixel(&rgb, w, 1, 1), RED);
        assert_eq!(pixel(&rgb, w, 3, 3), BLUE);
        assert_eq!(pixel(&rgb, w, 5, 0), RED);
        assert_eq!(pixel(&rgb, w, 2, 0), WHITE);

        // 3 x 3 hidden mask, areas [0..1, 1..3]: lines at x = 2 and y = 2.
        let (w, h, rgb) = mask_image(&Array2::zeros((3, 3)), None, &[0..1, 1..3], 2);
        for y in 0..h {
            for x in 0..w {
                let expected = if x == 2 || y == 2 { GREY } else { WHITE };
                assert_eq!(pixel(&rgb, w, x, y), expected, "({x}, {y})");
            }
        }
        // Readout mask (2 x 3): only vertical lines.
        let (w, h, rgb) = mask_image(&Array2::zeros((2, 3)), None, &[0..1, 1..3], 1);
        assert_eq!((w, h), (3, 2));
        assert_eq!(
            (pixel(&rgb, w, 1, 0), pixel(&rgb, w, 1, 1), pixel(&rgb, w, 0, 1)),
            (GREY, GREY, WHITE)
        );
    }

    #[test]
    fn mask_png_end_to_end() {
        let ei = MultiAreaEI {
            base: multi_area(30, 3, array![[1.0, 0.1, 0.0], [0.3, 1.0, 0.1], [0.0, 0.3, 1.0]]),
            exc_pct: 0.8,
            inter_area_connections: [true, false, true, false],
            inh_readout: true,
        };
        let m = ei.generate(4).unwrap();
        let (w, h, rgb) = mask_image(&m.recurrent, m.signs.as_deref(), &m.areas, 3);
        assert_eq!((w, h), (90, 90));
        let path = temp_png("ei");
        write_png(&path, w, h, &rgb).unwrap();
        let png = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let (_, idat) = parse_png(&png);
        assert_eq!(inflate_stored(&idat), filtered_scanlines(w, h, &rgb));
    }
}
