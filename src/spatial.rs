//! placeholder, replaced by the spatial module
#![allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("spatial")]
pub struct SpatialError;
#[derive(Clone, Copy, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Space { pub periodic: [f64; 3] }
impl Space {
    pub fn displacement(&self, a: [f64; 3], b: [f64; 3]) -> [f64; 3] { [b[0]-a[0], b[1]-a[1], b[2]-a[2]] }
}
