//! The synapse store: one projection's synapses as the engine keeps them.
//!
//! A [`SynapseStore`] is a structure of arrays in compressed-row order: rows
//! are presynaptic neurons for spiking projections (a spike touches one row)
//! and postsynaptic neurons for rate projections (`y = W r` reads one row per
//! output), see [`Major`]. Within a row, synapses are sorted by the other
//! index, so `(pre, post)` is found by binary search in O(log row length).
//!
//! Strategies write the store; masks, adjusters, lesions, plasticity and
//! save/load change it through the pure functions here. Mirror entities (when
//! the projection is not compact) are one column: `entities[k]` mirrors row
//! position `k`.
//!
//! A lesioned synapse is a tombstone (sign 0, weight 0): removing it costs
//! O(1), and the kernels need no test for it because it carries no weight.
//! [`SynapseStore::compact`] drops tombstones in O(n) when they pile up.
//!
//! Two columns shrink when they can (GeNN's 6 bytes a static synapse): the
//! other index is `u16` where the other population has at most 65,536
//! neurons ([`Indices`]), and the sign costs nothing per synapse while every
//! synapse has the same one (a projection from one excitatory or one
//! inhibitory population under Dale's law: the sign is implied), becoming a
//! byte per synapse when a lesion or a sign change makes them differ.

use super::error::{StoreError, StoreResult as Result};
use super::indices::Indices;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which index the rows of a store are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Major {
    /// Rows are presynaptic neurons (spiking: scatter a spike's row).
    #[default]
    Pre,
    /// Rows are postsynaptic neurons (rate: `y_j = sum_k W_jk r_k`).
    Post,
}

/// Excitatory (+1), inhibitory (-1), or removed (0): the sign of a synapse.
pub type Sign = i8;
/// Sign of an excitatory synapse.
pub const EXCITATORY: Sign = 1;
/// Sign of an inhibitory synapse.
pub const INHIBITORY: Sign = -1;
/// Sign of a removed (lesioned) synapse.
pub const REMOVED: Sign = 0;

/// A per-synapse column that is often the same for all synapses.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Column<T> {
    /// One value for every synapse (costs nothing per synapse).
    Uniform(T),
    /// One value per synapse, in row order.
    PerSynapse(Vec<T>),
}

impl<T: PartialEq> PartialEq for Column<T> {
    /// The same value at every slot, whichever the form (a uniform column
    /// equals a per-synapse one whose values all match it: the lengths are
    /// the store's).
    fn eq(&self, other: &Column<T>) -> bool {
        match (self, other) {
            (Column::Uniform(a), Column::Uniform(b)) => a == b,
            (Column::PerSynapse(a), Column::PerSynapse(b)) => a == b,
            (Column::Uniform(a), Column::PerSynapse(v)) | (Column::PerSynapse(v), Column::Uniform(a)) => {
                v.iter().all(|x| x == a)
            }
        }
    }
}

impl<T> std::ops::Index<usize> for Column<T> {
    type Output = T;

    /// Value of synapse `k` (any `k` for a uniform column).
    #[inline(always)]
    fn index(&self, k: usize) -> &T {
        match self {
            Column::Uniform(v) => v,
            Column::PerSynapse(v) => &v[k],
        }
    }
}

impl<T: Copy + PartialEq> Column<T> {
    /// The values of `len` synapses, in row order.
    pub fn iter(&self, len: usize) -> impl Iterator<Item = T> + '_ {
        let (uniform, each): (Option<T>, &[T]) = match self {
            Column::Uniform(v) => (Some(*v), &[]),
            Column::PerSynapse(v) => (None, v),
        };
        std::iter::repeat_n(uniform, if uniform.is_some() { len } else { 0 })
            .flatten()
            .chain(each.iter().copied())
    }

    /// Value of synapse `k`.
    #[inline(always)]
    pub fn get(&self, k: usize) -> T {
        match self {
            Column::Uniform(v) => *v,
            Column::PerSynapse(v) => v[k],
        }
    }

    /// Sets synapse `k` (a uniform column becomes per-synapse only if the value differs).
    pub fn set(&mut self, k: usize, value: T, len: usize) {
        match self {
            Column::Uniform(v) if *v == value => {}
            Column::Uniform(v) => {
                let mut all = vec![*v; len];
                all[k] = value;
                *self = Column::PerSynapse(all);
            }
            Column::PerSynapse(v) => v[k] = value,
        }
    }

    /// Builds a column from values, collapsing to uniform when all are equal.
    pub fn from_values(values: Vec<T>, default: T) -> Column<T> {
        match values.first() {
            None => Column::Uniform(default),
            Some(&first) if values.iter().all(|&v| v == first) => Column::Uniform(first),
            Some(_) => Column::PerSynapse(values),
        }
    }

    /// Keeps the entries where `keep` is true (in order).
    pub(crate) fn retain_by(&mut self, keep: &[bool]) {
        if let Column::PerSynapse(v) = self {
            let mut it = keep.iter();
            v.retain(|_| *it.next().unwrap_or(&true));
        }
    }

    /// Permutes the entries: `new[k] = old[perm[k]]`.
    fn permute(&mut self, perm: &[usize]) {
        if let Column::PerSynapse(v) = self {
            *v = perm.iter().map(|&p| v[p]).collect();
        }
    }

    /// Bytes per synapse this column costs.
    pub fn bytes(&self) -> usize {
        match self {
            Column::Uniform(_) => 0,
            Column::PerSynapse(v) => v.capacity() * std::mem::size_of::<T>(),
        }
    }
}

/// The synapses of one projection.
#[derive(Clone, Debug, PartialEq)]
pub struct SynapseStore {
    /// Number of presynaptic neurons.
    pub n_pre: u32,
    /// Number of postsynaptic neurons.
    pub n_post: u32,
    /// Which index the rows are.
    pub major: Major,
    /// Row start offsets, length `rows + 1`.
    pub row_ptr: Vec<u64>,
    /// The other index of each synapse (post for `Major::Pre`), sorted within a row.
    pub minor: Indices,
    /// Signed weight of each synapse (inhibitory weights are <= 0).
    pub weight: Vec<f32>,
    /// Sign of each synapse: +1, -1, or 0 when removed (uniform while all
    /// synapses share one; write it with [`SynapseStore::set_sign`]).
    pub sign: Column<Sign>,
    /// Delay of each synapse in whole time steps (>= 1).
    pub delay: Column<u16>,
    /// Learning-rate factor of each synapse in [0, 1] (0 = fixed).
    pub plasticity: Column<f32>,
    /// Number of removed (tombstone) synapses.
    pub removed: u64,
    /// Dale's law: a weight never takes the wrong sign (a write of the wrong
    /// sign gives 0). Off: a synapse's sign follows its weight.
    pub dale: bool,
}

fn yes() -> bool {
    true
}

/// The store as files hold it (every format version): indices as `u32`
/// and one sign byte per synapse, whatever the store's own widths.
#[derive(Serialize)]
#[serde(rename = "SynapseStore")]
struct StoreOut<'a> {
    n_pre: u32,
    n_post: u32,
    major: Major,
    row_ptr: &'a [u64],
    minor: &'a Indices,
    weight: &'a [f32],
    sign: Signs<'a>,
    delay: &'a Column<u16>,
    plasticity: &'a Column<f32>,
    removed: u64,
    dale: bool,
}

/// A sign column written as one byte per synapse.
struct Signs<'a>(&'a Column<Sign>, usize);

impl Serialize for Signs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.1))?;
        for x in self.0.iter(self.1) {
            seq.serialize_element(&x)?;
        }
        seq.end()
    }
}

#[derive(Deserialize)]
#[serde(rename = "SynapseStore")]
struct StoreIn {
    n_pre: u32,
    n_post: u32,
    major: Major,
    row_ptr: Vec<u64>,
    minor: Vec<u32>,
    weight: Vec<f32>,
    sign: Vec<Sign>,
    delay: Column<u16>,
    plasticity: Column<f32>,
    removed: u64,
    #[serde(default = "yes")]
    dale: bool,
}

impl Serialize for SynapseStore {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        StoreOut {
            n_pre: self.n_pre,
            n_post: self.n_post,
            major: self.major,
            row_ptr: &self.row_ptr,
            minor: &self.minor,
            weight: &self.weight,
            sign: Signs(&self.sign, self.len()),
            delay: &self.delay,
            plasticity: &self.plasticity,
            removed: self.removed,
            dale: self.dale,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SynapseStore {
    /// Narrows what fits; a damaged file's lengths and indices are kept as
    /// they are, for validation to report.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<SynapseStore, D::Error> {
        let f = StoreIn::deserialize(d)?;
        let other = match f.major {
            Major::Pre => f.n_post,
            Major::Post => f.n_pre,
        };
        let sign = if f.sign.len() == f.minor.len() {
            Column::from_values(f.sign, EXCITATORY)
        } else {
            Column::PerSynapse(f.sign)
        };
        Ok(SynapseStore {
            n_pre: f.n_pre,
            n_post: f.n_post,
            major: f.major,
            row_ptr: f.row_ptr,
            minor: Indices::new(f.minor, other),
            weight: f.weight,
            sign,
            delay: f.delay,
            plasticity: f.plasticity,
            removed: f.removed,
            dale: f.dale,
        })
    }
}

/// Where one synapse is: its row position in the store.
pub type SynapseIndex = usize;

impl SynapseStore {
    /// An empty store.
    pub fn empty(n_pre: u32, n_post: u32, major: Major) -> SynapseStore {
        let rows = match major {
            Major::Pre => n_pre,
            Major::Post => n_post,
        } as usize;
        SynapseStore {
            n_pre,
            n_post,
            major,
            row_ptr: vec![0; rows + 1],
            minor: Indices::empty(match major {
                Major::Pre => n_post,
                Major::Post => n_pre,
            }),
            weight: Vec::new(),
            sign: Column::Uniform(EXCITATORY),
            delay: Column::Uniform(1),
            plasticity: Column::Uniform(0.0),
            removed: 0,
            dale: true,
        }
    }

    /// Builds a pre-major store from a connectivity in pre-major CSR form
    /// (rows sorted by post), with signed weights, delays (steps) and signs
    /// (kept as one value when all agree).
    pub fn from_pre_rows(
        n_pre: u32,
        n_post: u32,
        row_ptr: Vec<u64>,
        post: Vec<u32>,
        weight: Vec<f32>,
        sign: Vec<Sign>,
        delay: Column<u16>,
    ) -> Result<SynapseStore> {
        let n = post.len();
        if row_ptr.len() != n_pre as usize + 1 || row_ptr.last().copied() != Some(n as u64) {
            return Err(StoreError::Malformed(format!(
                "row pointer of length {} does not match {} rows and {} synapses",
                row_ptr.len(),
                n_pre,
                n
            )));
        }
        if weight.len() != n || sign.len() != n {
            return Err(StoreError::Malformed(format!(
                "{} weights and {} signs for {} synapses",
                weight.len(),
                sign.len(),
                n
            )));
        }
        if let Column::PerSynapse(d) = &delay
            && d.len() != n
        {
            return Err(StoreError::Malformed(format!("{} delays for {} synapses", d.len(), n)));
        }
        let removed = sign.iter().filter(|&&s| s == REMOVED).count() as u64;
        Ok(SynapseStore {
            n_pre,
            n_post,
            major: Major::Pre,
            row_ptr,
            minor: Indices::new(post, n_post),
            weight,
            sign: Column::from_values(sign, EXCITATORY),
            delay,
            plasticity: Column::Uniform(0.0),
            removed,
            dale: true,
        })
    }

    /// Number of synapse slots (live and removed).
    #[inline]
    pub fn len(&self) -> usize {
        self.minor.len()
    }

    /// True when the store has no synapse slot.
    pub fn is_empty(&self) -> bool {
        self.minor.is_empty()
    }

    /// Number of neurons the other index counts (post for `Major::Pre`).
    pub fn other_count(&self) -> u32 {
        match self.major {
            Major::Pre => self.n_post,
            Major::Post => self.n_pre,
        }
    }

    /// Sets the sign of slot `k` (the sign column becomes per-synapse only
    /// if the sign differs); the weight and the removed count are the caller's.
    #[inline]
    pub fn set_sign(&mut self, k: SynapseIndex, sign: Sign) {
        let len = self.len();
        self.sign.set(k, sign, len);
    }

    /// Every slot's sign, in row order.
    pub fn signs(&self) -> impl Iterator<Item = Sign> + '_ {
        self.sign.iter(self.len())
    }

    /// Number of live (not removed) synapses.
    pub fn live(&self) -> u64 {
        self.len() as u64 - self.removed
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.row_ptr.len() - 1
    }

    /// Range of row `r` in the columns.
    #[inline(always)]
    pub fn row(&self, r: usize) -> std::ops::Range<usize> {
        self.row_ptr[r] as usize..self.row_ptr[r + 1] as usize
    }

    /// Row index of synapse `k` (binary search over the row pointer).
    pub fn row_of(&self, k: SynapseIndex) -> usize {
        self.row_ptr.partition_point(|&p| p <= k as u64) - 1
    }

    /// (pre, post) of synapse `k`.
    pub fn pair(&self, k: SynapseIndex) -> (u32, u32) {
        let r = self.row_of(k) as u32;
        match self.major {
            Major::Pre => (r, self.minor.get(k)),
            Major::Post => (self.minor.get(k), r),
        }
    }

    /// Pre and post index arrays of all slots, in row order.
    pub fn pairs(&self) -> (Vec<u32>, Vec<u32>) {
        let mut rows = Vec::with_capacity(self.len());
        for r in 0..self.rows() {
            let n = self.row(r).len();
            rows.extend(std::iter::repeat_n(r as u32, n));
        }
        match self.major {
            Major::Pre => (rows, self.minor.to_vec(0..self.len())),
            Major::Post => (self.minor.to_vec(0..self.len()), rows),
        }
    }

    fn check_pair(&self, pre: u32, post: u32) -> Result<()> {
        if pre >= self.n_pre || post >= self.n_post {
            return Err(StoreError::OutOfRange {
                pre,
                post,
                n_pre: self.n_pre,
                n_post: self.n_post,
            });
        }
        Ok(())
    }

    /// Slots of the live synapses from `pre` to `post` (several with multapses).
    pub fn find(&self, pre: u32, post: u32) -> Result<std::ops::Range<usize>> {
        self.check_pair(pre, post)?;
        let (r, m) = match self.major {
            Major::Pre => (pre as usize, post),
            Major::Post => (post as usize, pre),
        };
        let range = self.row(r);
        let lo = self.minor.partition_below(range.clone(), m);
        let hi = self.minor.partition_upto(range.clone(), m);
        Ok(range.start + lo..range.start + hi)
    }

    /// The first live synapse from `pre` to `post`, if any.
    pub fn find_live(&self, pre: u32, post: u32) -> Result<Option<SynapseIndex>> {
        Ok(self.find(pre, post)?.find(|&k| self.sign[k] != REMOVED))
    }

    /// Sets the signed weight of live synapse `k`. With Dale's law a weight
    /// of the wrong sign becomes zero (nn4n's rule); without it the sign
    /// follows the weight. A removed synapse stays removed (weight 0).
    pub fn set_weight(&mut self, k: SynapseIndex, w: f32) {
        if self.dale || self.sign[k] == REMOVED {
            self.weight[k] = constrain_sign(w, self.sign[k]);
        } else {
            self.weight[k] = w;
            if w != 0.0 {
                self.set_sign(k, if w < 0.0 { INHIBITORY } else { EXCITATORY });
            }
        }
    }

    /// Removes synapse `k` (O(1)): it keeps its slot as a tombstone.
    pub fn remove(&mut self, k: SynapseIndex) {
        if self.sign[k] != REMOVED {
            self.set_sign(k, REMOVED);
            self.weight[k] = 0.0;
            self.removed += 1;
        }
    }

    /// Drops tombstones (O(n)); returns for each old slot its new slot, or
    /// `usize::MAX` for removed ones, so mirrors can follow.
    pub fn compact(&mut self) -> Vec<usize> {
        if self.removed == 0 {
            return (0..self.len()).collect();
        }
        let keep: Vec<bool> = self.signs().map(|s| s != REMOVED).collect();
        let mut map = vec![usize::MAX; self.len()];
        let mut next = 0usize;
        let mut new_ptr = Vec::with_capacity(self.row_ptr.len());
        new_ptr.push(0u64);
        for r in 0..self.rows() {
            for k in self.row(r) {
                if keep[k] {
                    map[k] = next;
                    next += 1;
                }
            }
            new_ptr.push(next as u64);
        }
        self.row_ptr = new_ptr;
        self.minor.retain_by(&keep);
        let mut it = keep.iter();
        self.weight.retain(|_| *it.next().unwrap_or(&true));
        let live: Vec<Sign> = self.signs().filter(|&s| s != REMOVED).collect();
        self.sign = Column::from_values(live, EXCITATORY);
        self.delay.retain_by(&keep);
        self.plasticity.retain_by(&keep);
        self.removed = 0;
        map
    }

    /// Inserts synapses `(pre, post, weight, sign, delay)` keeping rows sorted
    /// (O(n + added)); returns for each old slot its new slot.
    pub fn insert(&mut self, added: &[(u32, u32, f32, Sign, u16)]) -> Result<Vec<usize>> {
        if added.is_empty() {
            // nothing moves; rebuilding the columns would forget an empty store's uniform delay and factor
            return Ok((0..self.len()).collect());
        }
        for &(pre, post, _, s, d) in added {
            self.check_pair(pre, post)?;
            if s == REMOVED || d == 0 {
                return Err(StoreError::BadNewSynapse { pre, post });
            }
        }
        let mut by_row: Vec<(usize, u32, usize)> = added
            .iter()
            .enumerate()
            .map(|(a, &(pre, post, ..))| match self.major {
                Major::Pre => (pre as usize, post, a),
                Major::Post => (post as usize, pre, a),
            })
            .collect();
        by_row.sort_unstable();
        let total = self.len() + added.len();
        // order[k] = Ok(old slot) or Err(added index)
        let mut order: Vec<std::result::Result<usize, usize>> = Vec::with_capacity(total);
        let mut new_ptr = Vec::with_capacity(self.row_ptr.len());
        new_ptr.push(0u64);
        let mut a = 0;
        for r in 0..self.rows() {
            let range = self.row(r);
            let mut k = range.start;
            while k < range.end || (a < by_row.len() && by_row[a].0 == r) {
                let take_new =
                    a < by_row.len() && by_row[a].0 == r && (k >= range.end || by_row[a].1 < self.minor.get(k));
                if take_new {
                    order.push(Err(by_row[a].2));
                    a += 1;
                } else {
                    order.push(Ok(k));
                    k += 1;
                }
            }
            new_ptr.push(order.len() as u64);
        }
        let mut map = vec![0usize; self.len()];
        let mut minor = Vec::with_capacity(total);
        let mut weight = Vec::with_capacity(total);
        let mut sign = Vec::with_capacity(total);
        let mut delay = Vec::with_capacity(total);
        let mut plast = Vec::with_capacity(total);
        for (slot, o) in order.iter().enumerate() {
            match *o {
                Ok(k) => {
                    map[k] = slot;
                    minor.push(self.minor.get(k));
                    weight.push(self.weight[k]);
                    sign.push(self.sign[k]);
                    delay.push(self.delay.get(k));
                    plast.push(self.plasticity.get(k));
                }
                Err(i) => {
                    let (pre, post, w, s, d) = added[i];
                    minor.push(match self.major {
                        Major::Pre => post,
                        Major::Post => pre,
                    });
                    weight.push(constrain_sign(w, s));
                    sign.push(s);
                    delay.push(d);
                    plast.push(self.new_plasticity());
                }
            }
        }
        self.row_ptr = new_ptr;
        self.minor = Indices::new(minor, self.other_count());
        self.weight = weight;
        self.sign = Column::from_values(sign, EXCITATORY);
        self.delay = Column::from_values(delay, 1);
        self.plasticity = Column::from_values(plast, 0.0);
        Ok(map)
    }

    /// The plasticity factor a new synapse gets: the projection's uniform
    /// factor, or 1 when factors differ per synapse.
    fn new_plasticity(&self) -> f32 {
        match &self.plasticity {
            Column::Uniform(p) => *p,
            Column::PerSynapse(_) => 1.0,
        }
    }

    /// Adds synapses `(pre, post, weight, sign, delay)`: each first takes a
    /// removed slot of its pair (O(log row), the layout stays), the others
    /// are inserted in one pass (O(n + added)). Returns the slot of each
    /// entry, in order, and the old-to-new slot map when the layout changed.
    pub fn add(&mut self, added: &[(u32, u32, f32, Sign, u16)]) -> Result<(Vec<usize>, Option<Vec<usize>>)> {
        let mut slots = vec![usize::MAX; added.len()];
        let mut grow = Vec::new();
        let mut grown = Vec::new();
        for (i, &(pre, post, w, s, d)) in added.iter().enumerate() {
            if s == REMOVED || d == 0 {
                return Err(StoreError::BadNewSynapse { pre, post });
            }
            match self.find(pre, post)?.find(|&k| self.sign[k] == REMOVED) {
                Some(k) => {
                    let len = self.len();
                    self.sign.set(k, s, len);
                    self.removed -= 1;
                    self.weight[k] = constrain_sign(w, s);
                    self.delay.set(k, d, len);
                    let p = self.new_plasticity();
                    self.plasticity.set(k, p, len);
                    slots[i] = k;
                }
                None => {
                    grow.push(added[i]);
                    grown.push(i);
                }
            }
        }
        if grow.is_empty() {
            return Ok((slots, None));
        }
        let map = self.insert(&grow)?;
        let mut taken = vec![false; self.len()];
        for &m in &map {
            taken[m] = true;
        }
        for s in slots.iter_mut().filter(|s| **s != usize::MAX) {
            *s = map[*s];
        }
        for (&i, &(pre, post, ..)) in grown.iter().zip(&grow) {
            // the inserted synapses of a pair are the slots of its range no old slot maps to
            let k = self.find(pre, post)?.find(|&k| !taken[k]).unwrap_or(usize::MAX);
            if k != usize::MAX {
                taken[k] = true;
            }
            slots[i] = k;
        }
        Ok((slots, Some(map)))
    }

    /// The same synapses with the other row order (O(n), stable: synapses
    /// keep their relative order within each new row). Returns the store and
    /// `perm` with `new[k] = old[perm[k]]`.
    pub fn transposed(&self) -> (SynapseStore, Vec<usize>) {
        let (other_rows, major) = match self.major {
            Major::Pre => (self.n_post as usize, Major::Post),
            Major::Post => (self.n_pre as usize, Major::Pre),
        };
        let mut count = vec![0u64; other_rows + 1];
        for m in self.minor.iter() {
            count[m as usize + 1] += 1;
        }
        for i in 0..other_rows {
            count[i + 1] += count[i];
        }
        let row_ptr = count.clone();
        let mut next = count;
        let mut perm = vec![0usize; self.len()];
        let mut minor = vec![0u32; self.len()];
        for r in 0..self.rows() {
            for k in self.row(r) {
                let m = self.minor.get(k) as usize;
                let slot = next[m] as usize;
                next[m] += 1;
                perm[slot] = k;
                minor[slot] = r as u32;
            }
        }
        let mut delay = self.delay.clone();
        delay.permute(&perm);
        let mut plasticity = self.plasticity.clone();
        plasticity.permute(&perm);
        let mut sign = self.sign.clone();
        sign.permute(&perm);
        let store = SynapseStore {
            n_pre: self.n_pre,
            n_post: self.n_post,
            major,
            row_ptr,
            minor: Indices::new(minor, self.rows() as u32),
            weight: perm.iter().map(|&p| self.weight[p]).collect(),
            sign,
            delay,
            plasticity,
            removed: self.removed,
            dale: self.dale,
        };
        (store, perm)
    }

    /// Bytes the store holds (capacity of every column).
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.row_ptr.capacity() * 8
            + self.minor.bytes()
            + self.weight.capacity() * 4
            + self.sign.bytes()
            + self.delay.bytes()
            + self.plasticity.bytes()
    }

    /// The longest delay in steps (0 for an empty store).
    pub fn max_delay(&self) -> u16 {
        match &self.delay {
            Column::Uniform(d) if !self.is_empty() => *d,
            Column::Uniform(_) => 0,
            Column::PerSynapse(v) => v.iter().copied().max().unwrap_or(0),
        }
    }
}

/// Dale's rule on one weight: a weight whose sign disagrees with the
/// synapse's sign becomes 0 (never flipped); a removed synapse weighs 0.
#[inline]
pub fn constrain_sign(w: f32, sign: Sign) -> f32 {
    match sign {
        EXCITATORY => w.max(0.0),
        INHIBITORY => w.min(0.0),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SignFilter;

    fn small() -> SynapseStore {
        // pre 0 -> post 1, 2 ; pre 2 -> post 0
        SynapseStore::from_pre_rows(
            3,
            3,
            vec![0, 2, 2, 3],
            vec![1, 2, 0],
            vec![0.5, -0.25, 1.0],
            vec![1, -1, 1],
            Column::Uniform(1),
        )
        .unwrap()
    }

    #[test]
    fn find_and_pair() {
        let s = small();
        assert_eq!(s.find(0, 2).unwrap(), 1..2);
        assert_eq!(s.find(1, 0).unwrap(), 2..2);
        assert_eq!(s.pair(2), (2, 0));
        assert!(s.find(3, 0).is_err());
    }

    /// Blocks of any size give `try_to_dense`'s matrix, bit for bit, from
    /// either row order, multapses summed and an empty post row included.
    #[test]
    fn dense_row_blocks_are_the_dense_matrix() {
        // 7 pre x 5 post; pre 3 twice onto post 4 (a multapse); post 2 gets nothing
        let (mut row_ptr, mut post, mut weight, mut sign) = (vec![0u64], Vec::new(), Vec::new(), Vec::new());
        for i in 0..7u32 {
            let mut targets: Vec<u32> = (0..5).filter(|&j| j != 2 && !(i + j).is_multiple_of(3)).collect();
            if i == 3 {
                targets.push(4);
            }
            for &j in &targets {
                let w = (i * 5 + j) as f32 * 0.13 - 1.7;
                post.push(j);
                weight.push(w);
                sign.push(if w < 0.0 { -1 } else { 1 });
            }
            row_ptr.push(post.len() as u64);
        }
        let pre_major = SynapseStore::from_pre_rows(7, 5, row_ptr, post, weight, sign, Column::Uniform(1)).unwrap();
        let post_major = pre_major.transposed().0;
        let want = pre_major.try_to_dense("").unwrap();
        assert_eq!(want, post_major.try_to_dense("").unwrap());
        assert!(want.row(2).iter().all(|&w| w == 0.0));
        for s in [&pre_major, &post_major] {
            for max_values in [0, 7, 13, 14, 35, 1000] {
                let mut got = Vec::new();
                let mut sizes = Vec::new();
                s.dense_row_blocks(max_values, |b| {
                    sizes.push(b.len());
                    got.extend_from_slice(b);
                    Ok::<(), ()>(())
                })
                .unwrap();
                assert_eq!(got, want.as_slice().unwrap(), "{:?}, blocks of {max_values}", s.major);
                // whole rows, at most max_values (one row at least)
                assert!(
                    sizes.iter().all(|&n| n.is_multiple_of(7) && n <= max_values.max(7)),
                    "{sizes:?}"
                );
            }
        }
    }

    #[test]
    fn transpose_round_trip() {
        let s = small();
        let (t, perm) = s.transposed();
        assert_eq!(t.major, Major::Post);
        assert_eq!(t.pair(0), (2, 0));
        assert_eq!(t.find(0, 2).unwrap().len(), 1);
        assert_eq!(perm.len(), 3);
        let (back, _) = t.transposed();
        assert_eq!(back, s);
    }

    #[test]
    fn remove_compact_insert() {
        let mut s = small();
        s.remove(1);
        assert_eq!(s.live(), 2);
        assert_eq!(s.weight[1], 0.0);
        let map = s.compact();
        assert_eq!(map, vec![0, usize::MAX, 1]);
        assert_eq!(s.len(), 2);
        let map = s.insert(&[(0, 0, 0.1, 1, 3), (2, 2, -0.2, -1, 1)]).unwrap();
        assert_eq!(map, vec![1, 2]);
        assert_eq!(s.pair(0), (0, 0));
        assert_eq!(s.delay.get(0), 3);
        assert_eq!(s.pair(3), (2, 2));
        assert_eq!(s.weight[3], -0.2);
    }

    #[test]
    fn matrix_statistics_and_degrees_agree_with_the_dense_matrix() {
        let mut s = small();
        let d = s.to_dense();
        assert_eq!(d.dim(), (3, 3));
        assert_eq!((d[[1, 0]], d[[2, 0]], d[[0, 2]]), (0.5, -0.25, 1.0));
        let all = s.weight_stats(SignFilter::Both);
        assert_eq!(all.count, 3);
        assert!((all.mean - (0.5 - 0.25 + 1.0) / 3.0).abs() < 1e-12);
        let exc = s.weight_stats(SignFilter::Excitatory);
        assert_eq!((exc.count, exc.min, exc.max), (2, 0.5, 1.0));
        assert!((exc.std - 0.25).abs() < 1e-12);
        assert_eq!(
            s.weight_histogram(SignFilter::Both, &[-1.0, 0.0, 1.0]).unwrap(),
            vec![1, 2]
        );
        assert!(s.weight_histogram(SignFilter::Both, &[1.0, 0.0]).is_err());
        assert_eq!(s.out_degree(), vec![2, 0, 1]);
        assert_eq!(s.in_degree(), vec![1, 1, 1]);
        let (t, _) = s.transposed();
        assert_eq!(t.to_dense(), d);
        assert_eq!(t.in_degree(), s.in_degree());
        s.remove(0);
        assert_eq!(s.weight_stats(SignFilter::Excitatory).count, 1);
        assert_eq!(s.to_coo(), (vec![0, 2], vec![2, 0], vec![-0.25, 1.0]));
        assert_eq!(s.out_degree(), vec![1, 0, 1]);
    }

    #[test]
    fn add_revives_a_removed_slot_and_inserts_the_rest() {
        let mut s = small();
        let k = s.find_live(0, 2).unwrap().unwrap();
        s.remove(k);
        let (slots, map) = s
            .add(&[(0, 2, -0.75, INHIBITORY, 3), (1, 0, 2.0, EXCITATORY, 2)])
            .unwrap();
        let map = map.expect("(1, 0) had no slot: the store grew");
        assert_eq!(slots[0], map[k], "the removed slot of (0, 2) came back");
        assert_eq!(s.removed, 0);
        assert_eq!(
            (s.weight[slots[0]], s.sign[slots[0]], s.delay.get(slots[0])),
            (-0.75, INHIBITORY, 3)
        );
        assert_eq!(s.pair(slots[1]), (1, 0));
        assert_eq!((s.weight[slots[1]], s.delay.get(slots[1])), (2.0, 2));
        assert_eq!(s.live(), 4);
        // no removed slot left: the store grows; a weight of the wrong sign is 0 (Dale)
        let (slots, map) = s.add(&[(1, 0, -1.0, EXCITATORY, 1)]).unwrap();
        assert!(map.is_some() && s.weight[slots[0]] == 0.0);
        assert!(s.add(&[(9, 0, 1.0, EXCITATORY, 1)]).is_err());
    }

    #[test]
    fn dale_rule_zeroes_wrong_sign() {
        let mut s = small();
        s.set_weight(0, -3.0);
        assert_eq!(s.weight[0], 0.0);
        s.set_weight(1, 0.7);
        assert_eq!(s.weight[1], 0.0);
        s.set_weight(1, -0.7);
        assert_eq!(s.weight[1], -0.7);
    }
}
