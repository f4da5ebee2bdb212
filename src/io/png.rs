//! A dependency-free PNG writer (stored deflate blocks, CRC-32 and Adler-32 by hand).

use std::path::{Path, PathBuf};

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
pub(crate) fn filtered_scanlines(width: usize, height: usize, rgb: &[u8]) -> Vec<u8> {
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

/// Readers of what [`write_png`] writes, for tests here and in `mask/`.
#[cfg(test)]
pub(crate) mod png_testing {
    use super::*;

    pub(crate) fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes(b[..4].try_into().unwrap())
    }

    /// Parses a zlib stream made of stored deflate blocks; checks header, block lengths and Adler-32.
    pub(crate) fn inflate_stored(z: &[u8]) -> Vec<u8> {
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
    pub(crate) fn parse_png(png: &[u8]) -> (Vec<u8>, Vec<u8>) {
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

    pub(crate) fn temp_png(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("cortecs_masks_{}_{name}.png", std::process::id()))
    }
}

#[cfg(test)]
mod tests {
    use super::png_testing::{be32, inflate_stored, parse_png, temp_png};
    use super::*;

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
}
