//! The one `.npy` reader: float64, float32 or int64 arrays of any shape, as f64 vectors or matrices.
//!
//! Writing `.npy` files (streamed, atomic) is `record`'s.

use ndarray::{Array2, ArrayD, Ix2};
use ndarray_npy::ReadNpyExt;
use std::path::{Path, PathBuf};

/// Why a `.npy` file could not be read (wrapped by `CortecsError::Npy`,
/// which displays it unchanged).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// The file cannot be opened, or holds no array of an accepted dtype or shape.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file holds another number of values than its use needs.
    #[error("{context}: array has length {got}, expected {expected}")]
    WrongLength {
        /// The file and what it was read as.
        context: String,
        /// The number of values needed.
        expected: usize,
        /// The number of values found.
        got: usize,
    },
}

type Result<T> = std::result::Result<T, NpyError>;

fn file_error(path: &Path, message: impl std::fmt::Display) -> NpyError {
    NpyError::File {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Why [`read_any`] failed.
enum Failure {
    /// The file could not be opened.
    Open(NpyError),
    /// The file is no float64, float32 or int64 `.npy` array; what the f64
    /// and the i64 reader said (the callers quote one or the other).
    Dtype { as_f64: String, as_i64: String },
}

impl From<NpyError> for Failure {
    fn from(e: NpyError) -> Self {
        Failure::Open(e)
    }
}

impl Failure {
    /// The error, quoting what the reader of `which` dtype said.
    fn into_error(self, path: &Path, quote_f64: bool) -> NpyError {
        match self {
            Failure::Open(e) => e,
            Failure::Dtype { as_f64, as_i64 } => file_error(
                path,
                format!(
                    "not a float64, float32 or int64 .npy array ({})",
                    if quote_f64 { as_f64 } else { as_i64 }
                ),
            ),
        }
    }
}

/// Checks that the data a `.npy` header announces (shape x item size) is in
/// the file, before any reader allocates room for it. Headers this cannot
/// parse are left to the reader, which reports them.
fn check_size(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    let len = file.metadata().map_err(|e| file_error(path, e))?.len();
    let mut head = Vec::new();
    (&mut file)
        .take(1 << 16)
        .read_to_end(&mut head)
        .map_err(|e| file_error(path, e))?;
    if head.len() < 12 || &head[..6] != b"\x93NUMPY" {
        return Ok(());
    }
    let (dict_at, dict_len) = match head[6] {
        1 => (10, u16::from_le_bytes([head[8], head[9]]) as usize),
        _ => (12, u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize),
    };
    let Some(dict) = head
        .get(dict_at..dict_at + dict_len)
        .and_then(|d| std::str::from_utf8(d).ok())
    else {
        return Ok(());
    };
    let field = |key: &str| dict.split(key).nth(1);
    let item: Option<u64> = field("'descr': '").and_then(|d| d.split('\'').next()).and_then(|d| {
        let digits: String = d.chars().filter(char::is_ascii_digit).collect();
        digits.parse().ok()
    });
    let shape: Option<Vec<u64>> = field("'shape': (").and_then(|s| s.split(')').next()).map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .filter_map(|x| x.parse().ok())
            .collect()
    });
    let (Some(item), Some(shape)) = (item, shape) else {
        return Ok(());
    };
    let values = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
    let bytes = values.and_then(|v| v.checked_mul(item));
    let have = len.saturating_sub((dict_at + dict_len) as u64);
    if bytes.is_none_or(|b| b > have) {
        return Err(file_error(
            path,
            format!(
                "its header announces shape {shape:?} ({} bytes of data) but the file holds only {have}: truncated or corrupt",
                bytes.map_or("more than 2^64".to_string(), |b| b.to_string())
            ),
        ));
    }
    Ok(())
}

/// Reads a float64, float32 or int64 `.npy` array of any shape as f64.
fn read_any(path: &Path) -> std::result::Result<ArrayD<f64>, Failure> {
    check_size(path)?;
    let open = || std::fs::File::open(path).map_err(|e| file_error(path, e));
    let as_f64 = match ArrayD::<f64>::read_npy(open()?) {
        Ok(a) => return Ok(a),
        Err(e) => e.to_string(),
    };
    if let Ok(a) = ArrayD::<f32>::read_npy(open()?) {
        return Ok(a.mapv(f64::from));
    }
    match ArrayD::<i64>::read_npy(open()?) {
        Ok(a) => Ok(a.mapv(|x| x as f64)),
        Err(e) => Err(Failure::Dtype {
            as_f64,
            as_i64: e.to_string(),
        }),
    }
}

/// Reads a 1-D (or any-shape, flattened in C order) `.npy` array as f64.
///
/// Accepts float64, float32 and int64; otherwise errs with
/// `"<path>: not a float64, float32 or int64 .npy array (<the f64 reader's complaint>)"`.
pub fn read_npy_f64(path: &Path) -> Result<Vec<f64>> {
    let a = read_any(path).map_err(|f| f.into_error(path, true))?;
    Ok(a.iter().copied().collect())
}

/// Reads a post x pre matrix from a `.npy` file (any float or int dtype) as f32.
///
/// The data (flattened in C order) must hold `n_post * n_pre` values; the
/// file's own shape is not checked beyond that. A wrong count is a
/// [`NpyError::WrongLength`] with the context
/// `"<path> (a post x pre = <n_post> x <n_pre> matrix)"`.
pub fn read_npy_matrix(path: &Path, n_post: usize, n_pre: usize) -> Result<Array2<f32>> {
    let v = read_npy_f64(path)?;
    if v.len() != n_post * n_pre {
        return Err(NpyError::WrongLength {
            context: format!("{} (a post x pre = {n_post} x {n_pre} matrix)", path.display()),
            expected: n_post * n_pre,
            got: v.len(),
        });
    }
    Ok(Array2::from_shape_fn((n_post, n_pre), |(r, c)| v[r * n_pre + c] as f32))
}

/// Reads a 2-D `.npy` matrix (float64, float32 or int64) as f64, in the file's shape.
///
/// Errs with `"<path>: not a float64, float32 or int64 .npy array (<the i64
/// reader's complaint>)"` for another dtype and with `"<path>: expected a 2-D
/// matrix (post x pre), found shape [..]"` for another number of dimensions.
pub fn read_npy_matrix_f64(path: &Path) -> Result<Array2<f64>> {
    let any = read_any(path).map_err(|f| f.into_error(path, false))?;
    let shape = any.shape().to_vec();
    any.into_dimensionality::<Ix2>().map_err(|_| {
        file_error(
            path,
            format!("expected a 2-D matrix (post x pre), found shape {shape:?}"),
        )
    })
}

/// Reads a `.npy` array (float64, float32 or int64) as f64, in the file's own shape.
pub fn read_npy_shaped(path: &Path) -> Result<ArrayD<f64>> {
    read_any(path).map_err(|f| f.into_error(path, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir::TestDir;
    use ndarray::{Array1, Array3};
    use ndarray_npy::write_npy;

    #[test]
    fn a_header_announcing_more_data_than_the_file_holds_is_refused_before_allocating() {
        let dir = TestDir::new("npy_huge");
        let p = dir.path("huge.npy");
        let mut dict = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }".to_vec();
        dict.resize(117, b' ');
        dict.push(b'\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(&dict);
        bytes.extend_from_slice(&[0u8; 80]);
        std::fs::write(&p, &bytes).unwrap();
        let e = read_npy_f64(&p).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "huge.npy: its header announces shape [1000000000000] (8000000000000 bytes of data) but the file holds only 80: truncated or corrupt"
            ),
            "{e}"
        );
    }

    #[test]
    fn every_accepted_dtype_reads_as_f64() {
        let dir = TestDir::new("npy-read");
        let (f8, f4, i8) = (dir.path("f8.npy"), dir.path("f4.npy"), dir.path("i8.npy"));
        write_npy(&f8, &Array1::from(vec![0.5f64, -1.25])).unwrap();
        write_npy(&f4, &Array2::from_shape_vec((2, 2), vec![1f32, 2., 3., 4.]).unwrap()).unwrap();
        write_npy(&i8, &Array1::from(vec![-3i64, 7])).unwrap();
        assert_eq!(read_npy_f64(&f8).unwrap(), vec![0.5, -1.25]);
        assert_eq!(read_npy_f64(&f4).unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(read_npy_f64(&i8).unwrap(), vec![-3.0, 7.0]);
    }

    #[test]
    fn matrices_keep_c_order_and_check_their_size() {
        let dir = TestDir::new("npy-matrix");
        let p = dir.path("w.npy");
        let w = Array2::from_shape_fn((2, 3), |(r, c)| (10 * r + c) as f64);
        write_npy(&p, &w).unwrap();
        let m = read_npy_matrix(&p, 2, 3).unwrap();
        assert_eq!(m, w.mapv(|x| x as f32));
        // only the count is checked: 3 x 2 reads the same data in another shape
        assert_eq!(
            read_npy_matrix(&p, 3, 2).unwrap().as_slice().unwrap(),
            m.as_slice().unwrap()
        );
        let e = read_npy_matrix(&p, 2, 2).unwrap_err();
        assert!(
            matches!(
                e,
                NpyError::WrongLength {
                    expected: 4,
                    got: 6,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("w.npy (a post x pre = 2 x 2 matrix): array has length 6, expected 4"),
            "{e}"
        );

        assert_eq!(read_npy_matrix_f64(&p).unwrap(), w);
        let cube = dir.path("cube.npy");
        write_npy(&cube, &Array3::<f32>::zeros((1, 2, 3))).unwrap();
        let e = read_npy_matrix_f64(&cube).unwrap_err().to_string();
        assert!(
            e.ends_with("cube.npy: expected a 2-D matrix (post x pre), found shape [1, 2, 3]"),
            "{e}"
        );
    }

    #[test]
    fn other_dtypes_and_missing_files_are_errors_naming_the_file() {
        let dir = TestDir::new("npy-bad");
        let p = dir.path("u8.npy");
        write_npy(&p, &Array1::from(vec![1u8, 2])).unwrap();
        for e in [
            read_npy_f64(&p).unwrap_err().to_string(),
            read_npy_matrix(&p, 1, 2).unwrap_err().to_string(),
            read_npy_matrix_f64(&p).unwrap_err().to_string(),
        ] {
            assert!(
                e.contains("u8.npy: not a float64, float32 or int64 .npy array ("),
                "{e}"
            );
        }
        let missing = dir.path("missing.npy");
        let e = read_npy_f64(&missing).unwrap_err();
        assert!(matches!(e, NpyError::File { .. }), "{e}");
        assert!(
            read_npy_matrix_f64(&missing)
                .unwrap_err()
                .to_string()
                .contains("missing.npy")
        );
    }
}
