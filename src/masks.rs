//! Connectivity mask generators in the style of nn4n's mask "structures" (Zhaoze Wang's nn4n,
//! `nn4n/mask/{multi_area,multi_area_ei,random_input}.py`), plus a dependency-free PNG writer for plotting them.
//!
//! Orientation: every mask is **post x pre** (rows = receiving units, columns = sending units), like `W` in
//! `y = W r`. nn4n builds its masks in the same orientation internally (its hidden layer computes `s Wᵀ`, and
//! it flips the sign of the *columns* of inhibitory units), so nn4n's `area_connectivities[i, j]` is the
//! probability of a connection from area `j` to area `i`, exactly as here.
//!
//! Randomness comes from a self-contained SplitMix64 seeded with the caller's seed; draws happen in a fixed
//! order (row-major over post, then pre), so a seed fully determines the masks.

use ndarray::Array2;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The masks a generator returns (all post x pre, values 0/1 for sparsity).
///
/// Signs are kept apart from the 0/1 masks: the signed masks of nn4n's `MultiAreaEI` are
/// `recurrent[[post, pre]] * signs[pre]` and `readout[[out, pre]] * signs[pre]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MaskSet {
    /// Sparsity of the input projection, `n_hidden x n_input` (post = hidden, pre = input channel).
    pub input: Array2<f32>,
    /// Sparsity of hidden -> hidden, `n_hidden x n_hidden` (post x pre).
    pub recurrent: Array2<f32>,
    /// Sparsity of the readout, `n_output x n_hidden` (post = output, pre = hidden).
    pub readout: Array2<f32>,
    /// Per hidden (pre) unit: +1 excitatory, -1 inhibitory (`MultiAreaEI` only, `None` otherwise).
    pub signs: Option<Vec<i8>>,
    /// Hidden units of each area, contiguous and in order (`RandomInput`: one area covering all units).
    pub areas: Vec<Range<usize>>,
}

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

/// Multi-area network without E/I constraints (nn4n `MultiArea`).
///
/// Hidden units are split into `n_areas` contiguous blocks of `n_hidden / n_areas` units; nn4n requires
/// `n_hidden % n_areas == 0`, here the last area takes the remainder instead. A recurrent entry
/// `(post, pre)` is 1 with probability `area_connectivities[[area(post), area(pre)]]` (nn4n:
/// `rand < p`, so 0 gives an empty block and 1 a full block). Input areas' rows of `input` are all ones
/// (every input channel reaches every unit of an input area) and all other rows are zero; readout areas'
/// columns of `readout` are all ones and all other columns are zero.
///
/// nn4n's list shorthand `[forward, backward, within]` for `area_connectivities` is, in this orientation,
/// `forward` below the diagonal (from a lower-numbered to a higher-numbered area), `backward` above it and
/// `within` (default 1) on it.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiArea {
    /// Number of hidden units in total.
    pub n_hidden: usize,
    /// Number of areas (1 ..= `n_hidden`).
    pub n_areas: usize,
    /// `n_areas x n_areas` connection probabilities in [0, 1], indexed `[[post_area, pre_area]]`.
    pub area_connectivities: Array2<f64>,
    /// Areas that receive input; empty means every area (nn4n's default `None`).
    pub input_areas: Vec<usize>,
    /// Areas that project to the output; empty means every area (nn4n's default `None`).
    pub readout_areas: Vec<usize>,
    /// Number of input channels (> 0).
    pub n_input: usize,
    /// Number of output units (> 0).
    pub n_output: usize,
    /// Whether a unit may connect to itself; `false` zeroes the recurrent diagonal (nn4n has no such option
    /// and behaves as `true`).
    pub self_connections: bool,
}

/// Multi-area network with E/I constraints (nn4n `MultiAreaEI`).
///
/// Masks are those of `base` (drawn identically for the same seed), then: in each area the first
/// `int(size * exc_pct)` units (truncation of the f64 product, exactly Python's `int()`, so e.g.
/// `100 * 0.29` gives 28) are excitatory and the rest inhibitory; inter-area recurrent connections of the
/// kinds switched off in `inter_area_connections` are removed; inhibitory readout columns are removed when
/// `inh_readout` is false. Connections within an area are never removed.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiAreaEI {
    /// The underlying multi-area layout and connection probabilities.
    pub base: MultiArea,
    /// Fraction of excitatory units in each area, in [0, 1] (nn4n default 0.8).
    pub exc_pct: f64,
    /// Which inter-area connection kinds are kept, nn4n order `[exc_exc, exc_inh, inh_exc, inh_inh]` where
    /// `a_b` means from an `a` (pre) unit to a `b` (post) unit in another area (nn4n default all `true`).
    pub inter_area_connections: [bool; 4],
    /// Whether inhibitory units project to the readout (nn4n default `true`).
    pub inh_readout: bool,
}

/// Input injected into a random subset of hidden units (nn4n `RandomInput` with its defaults
/// `readout_spar = 1`, `hidden_spar = 1`).
///
/// Exactly `int(n_hidden * input_fraction)` distinct hidden units (nn4n: `np.random.choice` without
/// replacement, truncated count) receive every input channel; every hidden unit projects to every output;
/// the recurrent mask is all ones (minus the diagonal when `self_connections` is false).
#[derive(Clone, Debug, PartialEq)]
pub struct RandomInput {
    /// Number of hidden units (> 0).
    pub n_hidden: usize,
    /// Number of input channels (> 0).
    pub n_input: usize,
    /// Number of output units (> 0).
    pub n_output: usize,
    /// Fraction of hidden units that receive input, in [0, 1] (nn4n `input_spar`).
    pub input_fraction: f64,
    /// Whether a unit may connect to itself; `false` zeroes the recurrent diagonal.
    pub self_connections: bool,
}

/// SplitMix64 (Steele, Lea & Flood 2014), the whole generator state is one `u64`.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n - 1)
    }
}

fn check_fraction(name: &str, value: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(format!("{name} must be in [0, 1], got {value}"))
    }
}

fn check_positive(name: &str, value: usize) -> Result<(), String> {
    if value == 0 {
        Err(format!("{name} must be > 0, got 0"))
    } else {
        Ok(())
    }
}

/// Resolves an area list: empty means all areas; every index must be `< n_areas`.
fn resolve_areas(name: &str, list: &[usize], n_areas: usize) -> Result<Vec<usize>, String> {
    if let Some(&bad) = list.iter().find(|&&a| a >= n_areas) {
        return Err(format!("{name} contains area {bad}, but areas are 0..{n_areas}"));
    }
    Ok(if list.is_empty() {
        (0..n_areas).collect()
    } else {
        list.to_vec()
    })
}

/// Recurrent mask with every entry 1 (minus the diagonal without self connections).
fn dense_recurrent(n: usize, self_connections: bool) -> Array2<f32> {
    let mut m = Array2::ones((n, n));
    if !self_connections {
        m.diag_mut().fill(0.0);
    }
    m
}

impl MultiArea {
    /// Validates the parameters and returns the areas' unit ranges.
    fn validate(&self) -> Result<Vec<Range<usize>>, String> {
        check_positive("n_hidden", self.n_hidden)?;
        if self.n_areas == 0 || self.n_areas > self.n_hidden {
            return Err(format!(
                "n_areas must be in 1..={} (n_hidden), got {}",
                self.n_hidden, self.n_areas
            ));
        }
        check_positive("n_input", self.n_input)?;
        check_positive("n_output", self.n_output)?;
        let c = &self.area_connectivities;
        if c.dim() != (self.n_areas, self.n_areas) {
            return Err(format!(
                "area_connectivities has the wrong shape: expected ({n}, {n}) (n_areas x n_areas), got {:?}",
                c.dim(),
                n = self.n_areas
            ));
        }
        for ((i, j), &p) in c.indexed_iter() {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("area_connectivities[[{i}, {j}]] must be in [0, 1], got {p}"));
            }
        }
        resolve_areas("input_areas", &self.input_areas, self.n_areas)?;
        resolve_areas("readout_areas", &self.readout_areas, self.n_areas)?;
        let size = self.n_hidden / self.n_areas;
        Ok((0..self.n_areas)
            .map(|a| {
                a * size..if a + 1 == self.n_areas {
                    self.n_hidden
                } else {
                    (a + 1) * size
                }
            })
            .collect())
    }

    /// Draws the masks; see the type's documentation. Errors name the offending parameter.
    pub fn generate(&self, seed: u64) -> Result<MaskSet, String> {
        let areas = self.validate()?;
        let input_areas = resolve_areas("input_areas", &self.input_areas, self.n_areas)?;
        let readout_areas = resolve_areas("readout_areas", &self.readout_areas, self.n_areas)?;
        let n = self.n_hidden;
        let area_of: Vec<usize> = areas
            .iter()
            .enumerate()
            .flat_map(|(a, r)| r.clone().map(move |_| a))
            .collect();
        let mut rng = SplitMix64(seed);
        let mut recurrent = Array2::zeros((n, n));
        for post in 0..n {
            for pre in 0..n {
                // One draw per entry, always, so the stream position never depends on the probabilities.
                let u = rng.uniform();
                let p = self.area_connectivities[[area_of[post], area_of[pre]]];
                if u < p && (self.self_connections || post != pre) {
                    recurrent[[post, pre]] = 1.0;
                }
            }
        }
        let mut input = Array2::zeros((n, self.n_input));
        for &a in &input_areas {
            input.slice_mut(ndarray::s![areas[a].clone(), ..]).fill(1.0);
        }
        let mut readout = Array2::zeros((self.n_output, n));
        for &a in &readout_areas {
            readout.slice_mut(ndarray::s![.., areas[a].clone()]).fill(1.0);
        }
        Ok(MaskSet {
            input,
            recurrent,
            readout,
            signs: None,
            areas,
        })
    }
}

impl MultiAreaEI {
    /// Draws the masks; see the type's documentation. Errors name the offending parameter.
    pub fn generate(&self, seed: u64) -> Result<MaskSet, String> {
        self.base.validate()?;
        check_fraction("exc_pct", self.exc_pct)?;
        let mut m = self.base.generate(seed)?;
        let n = self.base.n_hidden;
        let mut signs = vec![-1i8; n];
        let mut area_of = vec![0usize; n];
        for (a, r) in m.areas.iter().enumerate() {
            // Python's int(size * exc_pct): truncation of the f64 product.
            let n_exc = (r.len() as f64 * self.exc_pct) as usize;
            signs[r.start..r.start + n_exc].fill(1);
            area_of[r.clone()].fill(a);
        }
        if self.inter_area_connections.iter().any(|&keep| !keep) {
            for post in 0..n {
                for pre in 0..n {
                    if area_of[post] == area_of[pre] {
                        continue;
                    }
                    let kind = match (signs[pre] > 0, signs[post] > 0) {
                        (true, true) => 0,   // exc -> exc
                        (true, false) => 1,  // exc -> inh
                        (false, true) => 2,  // inh -> exc
                        (false, false) => 3, // inh -> inh
                    };
                    if !self.inter_area_connections[kind] {
                        m.recurrent[[post, pre]] = 0.0;
                    }
                }
            }
        }
        if !self.inh_readout {
            for (pre, &s) in signs.iter().enumerate() {
                if s < 0 {
                    m.readout.column_mut(pre).fill(0.0);
                }
            }
        }
        m.signs = Some(signs);
        Ok(m)
    }
}

impl RandomInput {
    /// Draws the masks; see the type's documentation. Errors name the offending parameter.
    pub fn generate(&self, seed: u64) -> Result<MaskSet, String> {
        check_positive("n_hidden", self.n_hidden)?;
        check_positive("n_input", self.n_input)?;
        check_positive("n_output", self.n_output)?;
        check_fraction("input_fraction", self.input_fraction)?;
        let n = self.n_hidden;
        // nn4n: int(hidden_size * input_spar) units drawn without replacement (partial Fisher-Yates here).
        let k = ((n as f64 * self.input_fraction) as usize).min(n);
        let mut rng = SplitMix64(seed);
        let mut order: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + rng.below(n - i);
            order.swap(i, j);
        }
        let mut input = Array2::zeros((n, self.n_input));
        for &unit in &order[..k] {
            input.row_mut(unit).fill(1.0);
        }
        Ok(MaskSet {
            input,
            recurrent: dense_recurrent(n, self.self_connections),
            readout: Array2::ones((self.n_output, n)),
            signs: None,
            areas: std::iter::once(0..n).collect(),
        })
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

/// CRC-32 (IEEE, reflected, polynomial 0xEDB88320) lookup table, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

fn crc32(bytes: &[u8]) -> u32 {
    crc32_update(0, bytes)
}

fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest run length for which `b` cannot overflow before the reduction.
    for chunk in bytes.chunks(5552) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// zlib stream (RFC 1950) wrapping stored (uncompressed, BTYPE 00) deflate blocks (RFC 1951).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = 65_535;
    let n_blocks = data.len().div_ceil(MAX_BLOCK).max(1);
    let mut out = Vec::with_capacity(data.len() + 5 * n_blocks + 6);
    out.extend_from_slice(&[0x78, 0x01]); // CM 8, 32 KiB window, no dictionary, (0x7801 % 31 == 0)
    let mut blocks = data.chunks(MAX_BLOCK).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]); // one empty final block
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none())); // BFINAL bit, BTYPE 00
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32_update(crc32(kind), data).to_be_bytes());
}

/// Scanlines with filter type 0 (None) prepended to each row.
fn filtered_scanlines(width: usize, height: usize, rgb: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(height * (1 + 3 * width));
    for row in rgb.chunks(3 * width) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    raw
}

fn encode_png(width: usize, height: usize, rgb: &[u8]) -> std::io::Result<Vec<u8>> {
    let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
    const MAX_DIM: usize = (1 << 31) - 1;
    if width == 0 || height == 0 || width > MAX_DIM || height > MAX_DIM {
        return Err(invalid(format!(
            "PNG width and height must be in 1..=2^31-1, got {width} x {height}"
        )));
    }
    let expected = width.checked_mul(height).and_then(|p| p.checked_mul(3));
    if expected != Some(rgb.len()) {
        return Err(invalid(format!(
            "rgb has {} bytes, expected width * height * 3 = {width} * {height} * 3",
            rgb.len()
        )));
    }
    let idat = zlib_stored(&filtered_scanlines(width, height, rgb));
    if idat.len() > MAX_DIM {
        return Err(invalid(format!(
            "image too large for one IDAT chunk: {} bytes",
            idat.len()
        )));
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(height as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // bit depth 8, colour type 2 (RGB), deflate, filter 0, no interlace
    let mut out = Vec::with_capacity(idat.len() + 64);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    push_chunk(&mut out, b"IHDR", &ihdr);
    push_chunk(&mut out, b"IDAT", &idat);
    push_chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// Writes an RGB image as a PNG file with no compression crates: zlib "stored" (uncompressed) deflate blocks,
/// CRC-32 and Adler-32 computed by hand. Writes to `path.tmp` then renames.
///
/// `rgb` is `width * height` pixels, 3 bytes each, row-major from the top. Fails with `InvalidInput` when
/// the sizes disagree or a dimension is 0.
pub fn write_png(path: &Path, width: usize, height: usize, rgb: &[u8]) -> std::io::Result<()> {
    let bytes = encode_png(width, height, rgb)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array, s};

    fn multi_area(n_hidden: usize, n_areas: usize, conn: Array2<f64>) -> MultiArea {
        MultiArea {
            n_hidden,
            n_areas,
            area_connectivities: conn,
            input_areas: vec![],
            readout_areas: vec![],
            n_input: 3,
            n_output: 2,
            self_connections: true,
        }
    }

    fn density(block: ndarray::ArrayView2<f32>) -> f64 {
        block.iter().map(|&v| v as f64).sum::<f64>() / block.len() as f64
    }

    fn is_binary(m: &Array2<f32>) -> bool {
        m.iter().all(|&v| v == 0.0 || v == 1.0)
    }

    #[test]
    fn splitmix64_reference_values() {
        // First outputs of the reference SplitMix64 seeded with 0.
        let mut r = SplitMix64(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut r = SplitMix64(7);
        for _ in 0..1000 {
            let u = r.uniform();
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn block_densities_follow_area_connectivities() {
        // Two areas of 200 units; [[post, pre]]: area 1 -> area 0 at 0.3, area 0 -> area 1 never,
        // area 0 fully recurrent, area 1 at 0.5.
        let mut ma = multi_area(400, 2, array![[1.0, 0.3], [0.0, 0.5]]);
        ma.self_connections = false;
        let m = ma.generate(42).unwrap();
        assert_eq!(m.areas, vec![0..200, 200..400]);
        assert_eq!(m.recurrent.dim(), (400, 400));
        assert!(is_binary(&m.recurrent));
        let within = |p: f64, n: f64, d: f64| (d - p).abs() <= 4.0 * (p * (1.0 - p) / n).sqrt();

        let d01 = density(m.recurrent.slice(s![0..200, 200..400]));
        assert!(within(0.3, 40_000.0, d01), "density {d01} vs 0.3");
        assert!(m.recurrent.slice(s![200..400, 0..200]).iter().all(|&v| v == 0.0));
        for i in 0..200 {
            for j in 0..200 {
                assert_eq!(m.recurrent[[i, j]], if i == j { 0.0 } else { 1.0 });
            }
        }
        // Area 1 -> area 1: diagonal forced to 0, off-diagonal density 0.5.
        let b11 = m.recurrent.slice(s![200..400, 200..400]);
        assert!(b11.diag().iter().all(|&v| v == 0.0));
        let d11 = b11.sum() as f64 / (200.0 * 199.0);
        assert!(within(0.5, 200.0 * 199.0, d11), "density {d11} vs 0.5");

        // With self connections the diagonal of a full block is 1.
        ma.self_connections = true;
        let m = ma.generate(42).unwrap();
        assert!(m.recurrent.slice(s![0..200, 0..200]).iter().all(|&v| v == 1.0));
    }

    #[test]
    fn uneven_areas_last_takes_remainder() {
        let m = multi_area(10, 3, Array2::from_elem((3, 3), 1.0)).generate(1).unwrap();
        assert_eq!(m.areas, vec![0..3, 3..6, 6..10]);
        let m = multi_area(5, 5, Array2::from_elem((5, 5), 1.0)).generate(1).unwrap();
        assert_eq!(m.areas, (0..5).map(|i| i..i + 1).collect::<Vec<_>>());
    }

    #[test]
    fn input_and_readout_follow_areas() {
        let mut ma = multi_area(30, 3, Array2::from_elem((3, 3), 0.5));
        ma.input_areas = vec![1];
        ma.readout_areas = vec![0, 2];
        ma.n_input = 4;
        let m = ma.generate(3).unwrap();
        assert_eq!(m.input.dim(), (30, 4));
        assert_eq!(m.readout.dim(), (2, 30));
        assert!(m.signs.is_none());
        for unit in 0..30 {
            let receives = (10..20).contains(&unit);
            assert!(m.input.row(unit).iter().all(|&v| v == if receives { 1.0 } else { 0.0 }));
            let reads = !(10..20).contains(&unit);
            assert!(
                m.readout
                    .column(unit)
                    .iter()
                    .all(|&v| v == if reads { 1.0 } else { 0.0 })
            );
        }
        // Empty lists mean every area (nn4n's None).
        let m = multi_area(30, 3, Array2::from_elem((3, 3), 0.5)).generate(3).unwrap();
        assert!(m.input.iter().all(|&v| v == 1.0));
        assert!(m.readout.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn seeds_determine_masks() {
        let ma = multi_area(60, 3, Array2::from_elem((3, 3), 0.4));
        assert_eq!(ma.generate(9).unwrap(), ma.generate(9).unwrap());
        assert_ne!(ma.generate(9).unwrap().recurrent, ma.generate(10).unwrap().recurrent);

        let ei = MultiAreaEI {
            base: ma,
            exc_pct: 0.8,
            inter_area_connections: [true; 4],
            inh_readout: true,
        };
        assert_eq!(ei.generate(9).unwrap(), ei.generate(9).unwrap());
        assert_ne!(ei.generate(9).unwrap().recurrent, ei.generate(10).unwrap().recurrent);

        let ri = RandomInput {
            n_hidden: 100,
            n_input: 2,
            n_output: 1,
            input_fraction: 0.3,
            self_connections: true,
        };
        assert_eq!(ri.generate(9).unwrap(), ri.generate(9).unwrap());
        assert_ne!(ri.generate(9).unwrap().input, ri.generate(10).unwrap().input);
    }

    #[test]
    fn ei_signs_per_area() {
        let ei = |exc_pct: f64| MultiAreaEI {
            base: multi_area(200, 2, Array2::from_elem((2, 2), 1.0)),
            exc_pct,
            inter_area_connections: [true; 4],
            inh_readout: true,
        };
        let m = ei(0.8).generate(5).unwrap();
        let signs = m.signs.unwrap();
        for area in &m.areas {
            for (k, unit) in area.clone().enumerate() {
                assert_eq!(signs[unit], if k < 80 { 1 } else { -1 }, "unit {unit}");
            }
        }
        // Masks stay 0/1 and match the base masks when nothing is removed.
        assert_eq!(m.recurrent, ei(0.8).base.generate(5).unwrap().recurrent);
        assert!(is_binary(&m.recurrent) && is_binary(&m.readout));
        // nn4n's int(size * exc_pct): 100 * 0.29 == 28.999999999999996 -> 28.
        let count = |pct: f64| {
            ei(pct).generate(0).unwrap().signs.unwrap()[..100]
                .iter()
                .filter(|&&s| s > 0)
                .count()
        };
        assert_eq!(count(0.29), 28);
        assert_eq!(count(0.0), 0);
        assert_eq!(count(1.0), 100);
        assert_eq!(count(0.555), 55);
    }

    #[test]
    fn ei_inter_area_connection_kinds() {
        let base = multi_area(40, 2, Array2::from_elem((2, 2), 1.0));
        for off in 0..4 {
            let mut keep = [true; 4];
            keep[off] = false;
            let ei = MultiAreaEI {
                base: base.clone(),
                exc_pct: 0.75,
                inter_area_connections: keep,
                inh_readout: true,
            };
            let m = ei.generate(1).unwrap();
            let signs = m.signs.as_ref().unwrap();
            let area = |u: usize| u / 20;
            for post in 0..40 {
                for pre in 0..40 {
                    let kind = match (signs[pre] > 0, signs[post] > 0) {
                        (true, true) => 0,
                        (true, false) => 1,
                        (false, true) => 2,
                        (false, false) => 3,
                    };
                    let expected = if area(post) == area(pre) || kind != off {
                        1.0
                    } else {
                        0.0
                    };
                    assert_eq!(m.recurrent[[post, pre]], expected, "off {off}, post {post}, pre {pre}");
                }
            }
        }
    }

    #[test]
    fn ei_inh_readout() {
        let ei = MultiAreaEI {
            base: multi_area(40, 2, Array2::from_elem((2, 2), 1.0)),
            exc_pct: 0.5,
            inter_area_connections: [true; 4],
            inh_readout: false,
        };
        let m = ei.generate(2).unwrap();
        let signs = m.signs.unwrap();
        for (pre, &s) in signs.iter().enumerate() {
            let expected = if s > 0 { 1.0 } else { 0.0 };
            assert!(m.readout.column(pre).iter().all(|&v| v == expected));
        }
        assert!(m.input.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn random_input_counts() {
        for (n, frac, k) in [(100, 0.25, 25), (10, 0.333, 3), (7, 1.0, 7), (7, 0.0, 0), (10, 0.7, 7)] {
            let ri = RandomInput {
                n_hidden: n,
                n_input: 3,
                n_output: 2,
                input_fraction: frac,
                self_connections: false,
            };
            let m = ri.generate(11).unwrap();
            let rows_on: Vec<usize> = (0..n).filter(|&u| m.input.row(u).iter().any(|&v| v != 0.0)).collect();
            assert_eq!(rows_on.len(), k, "n {n} frac {frac}");
            assert!(rows_on.iter().all(|&u| m.input.row(u).iter().all(|&v| v == 1.0)));
            assert_eq!(m.recurrent, dense_recurrent(n, false));
            assert!(m.readout.iter().all(|&v| v == 1.0));
            assert_eq!(m.readout.dim(), (2, n));
            assert_eq!(m.areas, std::iter::once(0..n).collect::<Vec<_>>());
        }
        // Over many seeds each unit is picked about equally often (k/n = 0.3 each).
        let ri = RandomInput {
            n_hidden: 10,
            n_input: 1,
            n_output: 1,
            input_fraction: 0.3,
            self_connections: true,
        };
        let mut hits = [0usize; 10];
        for seed in 0..3000 {
            let m = ri.generate(seed).unwrap();
            for (u, h) in hits.iter_mut().enumerate() {
                *h += (m.input[[u, 0]] != 0.0) as usize;
            }
        }
        let sd = (3000.0f64 * 0.3 * 0.7).sqrt();
        assert!(hits.iter().all(|&h| (h as f64 - 900.0).abs() <= 4.0 * sd), "{hits:?}");
    }

    #[test]
    fn errors_name_the_parameter() {
        let ok = multi_area(10, 2, Array2::from_elem((2, 2), 0.5));
        let expect = |r: Result<MaskSet, String>, name: &str| {
            let msg = r.expect_err(name);
            assert!(msg.contains(name), "{msg:?} should name {name}");
            msg
        };
        expect(
            MultiArea {
                n_hidden: 0,
                ..ok.clone()
            }
            .generate(0),
            "n_hidden",
        );
        expect(
            MultiArea {
                n_areas: 0,
                ..ok.clone()
            }
            .generate(0),
            "n_areas",
        );
        expect(
            MultiArea {
                n_areas: 11,
                ..ok.clone()
            }
            .generate(0),
            "n_areas",
        );
        let msg = expect(
            MultiArea {
                area_connectivities: Array2::zeros((2, 3)),
                ..ok.clone()
            }
            .generate(0),
            "area_connectivities",
        );
        assert!(msg.contains("expected (2, 2)") && msg.contains("got (2, 3)"), "{msg}");
        for bad in [1.5, -0.1, f64::NAN] {
            let conn = array![[0.5, bad], [0.5, 0.5]];
            expect(
                MultiArea {
                    area_connectivities: conn,
                    ..ok.clone()
                }
                .generate(0),
                "area_connectivities",
            );
        }
        expect(
            MultiArea {
                input_areas: vec![0, 2],
                ..ok.clone()
            }
            .generate(0),
            "input_areas",
        );
        expect(
            MultiArea {
                readout_areas: vec![5],
                ..ok.clone()
            }
            .generate(0),
            "readout_areas",
        );
        expect(
            MultiArea {
                n_input: 0,
                ..ok.clone()
            }
            .generate(0),
            "n_input",
        );
        expect(
            MultiArea {
                n_output: 0,
                ..ok.clone()
            }
            .generate(0),
            "n_output",
        );

        for bad in [1.01, -0.5, f64::NAN] {
            let ei = MultiAreaEI {
                base: ok.clone(),
                exc_pct: bad,
                inter_area_connections: [true; 4],
                inh_readout: true,
            };
            expect(ei.generate(0), "exc_pct");
        }
        let ei = MultiAreaEI {
            base: MultiArea {
                n_areas: 0,
                ..ok.clone()
            },
            exc_pct: 0.8,
            inter_area_connections: [true; 4],
            inh_readout: true,
        };
        expect(ei.generate(0), "n_areas");

        let ri = RandomInput {
            n_hidden: 10,
            n_input: 1,
            n_output: 1,
            input_fraction: 0.5,
            self_connections: true,
        };
        for bad in [1.5, -0.1, f64::NAN, f64::INFINITY] {
            expect(
                RandomInput {
                    input_fraction: bad,
                    ..ri.clone()
                }
                .generate(0),
                "input_fraction",
            );
        }
        expect(
            RandomInput {
                n_hidden: 0,
                ..ri.clone()
            }
            .generate(0),
            "n_hidden",
        );
        expect(
            RandomInput {
                n_input: 0,
                ..ri.clone()
            }
            .generate(0),
            "n_input",
        );
        expect(
            RandomInput {
                n_output: 0,
                ..ri.clone()
            }
            .generate(0),
            "n_output",
        );
    }

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
    fn checksums_match_reference_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
        // Long input exercises the deferred modulo.
        let data = vec![0xFFu8; 100_000];
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &data {
            a = (a + x as u64) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler32(&data), ((b << 16) | a) as u32);
    }

    fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes(b[..4].try_into().unwrap())
    }

    /// Parses a zlib stream made of stored deflate blocks; checks header, block lengths and Adler-32.
    fn inflate_stored(z: &[u8]) -> Vec<u8> {
        assert_eq!(z[0] & 0x0F, 8, "CM must be deflate");
        assert_eq!((z[0] as u16 * 256 + z[1] as u16) % 31, 0, "FCHECK");
        assert_eq!(z[1] & 0x20, 0, "no preset dictionary");
        let (mut pos, mut out) = (2, Vec::new());
        loop {
            let header = z[pos];
            assert_eq!((header >> 1) & 3, 0, "stored block expected");
            let len = u16::from_le_bytes([z[pos + 1], z[pos + 2]]);
            let nlen = u16::from_le_bytes([z[pos + 3], z[pos + 4]]);
            assert_eq!(nlen, !len);
            out.extend_from_slice(&z[pos + 5..pos + 5 + len as usize]);
            pos += 5 + len as usize;
            if header & 1 == 1 {
                break;
            }
        }
        assert_eq!(z.len(), pos + 4, "Adler-32 must end the stream");
        assert_eq!(be32(&z[pos..]), adler32(&out));
        out
    }

    /// Walks the chunks, verifying every CRC; returns (IHDR data, concatenated IDAT data).
    fn parse_png(png: &[u8]) -> (Vec<u8>, Vec<u8>) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (mut pos, mut ihdr, mut idat, mut kinds) = (8, vec![], vec![], vec![]);
        while pos < png.len() {
            let len = be32(&png[pos..]) as usize;
            let kind = &png[pos + 4..pos + 8];
            let data = &png[pos + 8..pos + 8 + len];
            let crc = be32(&png[pos + 8 + len..]);
            let mut covered = kind.to_vec();
            covered.extend_from_slice(data);
            assert_eq!(crc, crc32(&covered), "CRC of {}", String::from_utf8_lossy(kind));
            match kind {
                b"IHDR" => ihdr = data.to_vec(),
                b"IDAT" => idat.extend_from_slice(data),
                _ => {}
            }
            kinds.push(kind.to_vec());
            pos += 12 + len;
        }
        assert_eq!(kinds.first().unwrap(), b"IHDR");
        assert_eq!(kinds.last().unwrap(), b"IEND");
        (ihdr, idat)
    }

    fn temp_png(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("cortecs_masks_{}_{name}.png", std::process::id()))
    }

    #[test]
    fn png_round_trip() {
        // 7 x 3 small image, and a 250 x 100 one whose scanlines (75_100 bytes) need two stored blocks.
        for (w, h) in [(7usize, 3usize), (250, 100)] {
            let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 31 % 251) as u8).collect();
            let path = temp_png(&format!("{w}x{h}"));
            write_png(&path, w, h, &rgb).unwrap();
            let mut tmp = path.as_os_str().to_owned();
            tmp.push(".tmp");
            assert!(!Path::new(&tmp).exists(), "temporary file must be renamed away");
            let png = std::fs::read(&path).unwrap();
            std::fs::remove_file(&path).unwrap();

            let (ihdr, idat) = parse_png(&png);
            assert_eq!(ihdr.len(), 13);
            assert_eq!(be32(&ihdr[0..]) as usize, w);
            assert_eq!(be32(&ihdr[4..]) as usize, h);
            assert_eq!(&ihdr[8..], &[8, 2, 0, 0, 0]);
            // IHDR CRC recomputed by hand from its position in the file.
            assert_eq!(be32(&png[29..]), crc32(&png[12..29]));

            let mut expected = Vec::new();
            for row in rgb.chunks(w * 3) {
                expected.push(0);
                expected.extend_from_slice(row);
            }
            assert_eq!(inflate_stored(&idat), expected);
        }
        assert_eq!(inflate_stored(&zlib_stored(&[])), Vec::<u8>::new());
        let exact = vec![7u8; 65_535 * 2];
        assert_eq!(inflate_stored(&zlib_stored(&exact)), exact);
    }

    #[test]
    fn png_rejects_bad_sizes() {
        let path = temp_png("bad");
        for (w, h, n) in [(0, 1, 0), (2, 2, 11), (2, 2, 13)] {
            let err = write_png(&path, w, h, &vec![0; n]).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        }
        assert!(!path.exists());
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
