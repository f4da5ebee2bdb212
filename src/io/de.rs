//! Serde helpers of the checkpoint payload that know no engine type: bounded string reads and dense matrices.

use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Deserialises a `String` through `deserialize_str`, so that bincode's
/// borrowing decoder checks the length against the input before allocating
/// (its owned `String` path allocates the declared length first).
pub(crate) fn de_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E>(self, v: &str) -> std::result::Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E>(self, v: String) -> std::result::Result<String, E> {
            Ok(v)
        }
    }
    d.deserialize_str(V)
}

/// [`de_string`] for paths.
pub(crate) fn de_path<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<PathBuf, D::Error> {
    de_string(d).map(PathBuf::from)
}

/// A dense matrix as shape and row-major data.
#[derive(Serialize, Deserialize)]
pub(crate) struct ArrayFile<T> {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) data: Vec<T>,
}

/// Serde `with` functions for a matrix field (`connect::Strategy::FromMatrix`) in the form of an [`ArrayFile`].
pub(crate) mod matrix {
    use super::{ArrayFile, array_in, array_out};
    use ndarray::Array2;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes shape and row-major data.
    pub(crate) fn serialize<S: Serializer>(a: &Array2<f64>, s: S) -> Result<S::Ok, S::Error> {
        array_out(a).serialize(s)
    }

    /// Reads shape and row-major data; they must fit.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Array2<f64>, D::Error> {
        array_in(ArrayFile::deserialize(d)?, "strategy matrix").map_err(serde::de::Error::custom)
    }
}

/// The shape and row-major data of `a`.
pub(crate) fn array_out<T: Copy>(a: &ndarray::Array2<T>) -> ArrayFile<T> {
    ArrayFile {
        rows: a.nrows(),
        cols: a.ncols(),
        data: a.iter().copied().collect(),
    }
}

/// The matrix `a` describes; errs (naming `what`) when shape and data do not fit.
pub(crate) fn array_in<T>(a: ArrayFile<T>, what: &str) -> std::result::Result<ndarray::Array2<T>, String> {
    ndarray::Array2::from_shape_vec((a.rows, a.cols), a.data)
        .map_err(|e| format!("{what}: a {} x {} matrix does not fit its data ({e})", a.rows, a.cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Doc {
        #[serde(deserialize_with = "de_string")]
        name: String,
        #[serde(deserialize_with = "de_path")]
        path: PathBuf,
        #[serde(with = "matrix")]
        m: ndarray::Array2<f64>,
    }

    #[test]
    fn strings_paths_and_matrices_round_trip_through_bincode() {
        let doc = Doc {
            name: "ee".into(),
            path: "w.npy".into(),
            m: ndarray::Array2::from_shape_fn((2, 3), |(r, c)| (r * 3 + c) as f64),
        };
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&doc, cfg).unwrap();
        let (back, used): (Doc, usize) = bincode::serde::borrow_decode_from_slice(&bytes, cfg).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!((back.name.as_str(), back.path.to_str()), ("ee", Some("w.npy")));
        assert_eq!(back.m, doc.m);
    }

    #[test]
    fn a_matrix_whose_shape_does_not_fit_its_data_is_refused() {
        let bad = ArrayFile {
            rows: 2,
            cols: 2,
            data: vec![1.0f32; 3],
        };
        let e = array_in(bad, "mask").unwrap_err();
        assert!(e.starts_with("mask: a 2 x 2 matrix does not fit its data"), "{e}");
    }

    #[test]
    fn a_declared_string_longer_than_the_input_is_an_error_not_an_allocation() {
        // varint length u64::MAX - 1 (0xfd + 8 bytes), then nothing
        let mut bytes = vec![0xfdu8];
        bytes.extend_from_slice(&(u64::MAX - 1).to_le_bytes());
        #[derive(Deserialize)]
        struct S(
            #[serde(deserialize_with = "de_string")]
            #[allow(dead_code)]
            String,
        );
        let r: Result<(S, usize), _> = bincode::serde::borrow_decode_from_slice(&bytes, bincode::config::standard());
        assert!(r.is_err());
    }
}
