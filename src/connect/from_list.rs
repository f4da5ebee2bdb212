//! Explicit lists of (pre, post) pairs, given or read from a text file, with optional weights and delays.

use super::error::{ConnectError, ConnectResult};
use super::input::{ConnectInput, Connectivity};
use std::path::Path;

/// A list of pairs and where it came from (for messages).
pub(super) struct ListSource<'a> {
    pub(super) rows: &'a [(u32, u32)],
    pub(super) weights: Option<&'a [f64]>,
    pub(super) delays: Option<&'a [f64]>,
    /// The file and the line of each row, for lists read from a file.
    pub(super) file: Option<(&'a Path, &'a [usize])>,
}

impl ListSource<'_> {
    fn error(&self, input: &ConnectInput, rows: &[usize], message: String) -> ConnectError {
        match self.file {
            Some((path, lines)) => {
                let which: Vec<String> = rows.iter().map(|&r| lines[r].to_string()).collect();
                let noun = if rows.len() == 1 { "line" } else { "lines" };
                ConnectError::file(
                    path,
                    format!(
                        "{noun} {}: {message} (projection '{}')",
                        which.join(" and "),
                        input.projection
                    ),
                )
            }
            None => {
                let which: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
                let noun = if rows.len() == 1 { "row" } else { "rows" };
                ConnectError::rule(
                    input.projection,
                    format!("from_list: {noun} {}: {message}", which.join(" and ")),
                )
            }
        }
    }
}

/// Checks a list and builds its CSR: a counting sort by pre, then a stable
/// sort by post within each row (so repeated pairs keep their list order).
pub(super) fn build_list(input: &ConnectInput, src: &ListSource) -> ConnectResult<Connectivity> {
    let m = src.rows.len();
    for (what, values) in [("weights", src.weights), ("delays", src.delays)] {
        if let Some(v) = values
            && v.len() != m
        {
            return Err(ConnectError::rule(
                input.projection,
                format!("from_list: {} {what} given for {m} rows", v.len()),
            ));
        }
    }
    if m > u32::MAX as usize {
        return Err(ConnectError::rule(
            input.projection,
            format!("from_list: {m} rows, at most {} are supported", u32::MAX),
        ));
    }
    let no_self = input.no_self();
    let mut counts = vec![0u64; input.n_pre + 1];
    for (r, &(pre, post)) in src.rows.iter().enumerate() {
        if pre as usize >= input.n_pre {
            return Err(src.error(
                input,
                &[r],
                format!("pre index {pre} is out of range for {} pre neurons", input.n_pre),
            ));
        }
        if post as usize >= input.n_post {
            return Err(src.error(
                input,
                &[r],
                format!("post index {post} is out of range for {} post neurons", input.n_post),
            ));
        }
        if no_self && pre == post {
            return Err(src.error(
                input,
                &[r],
                format!("connects neuron {pre} to itself, but self-connections are not allowed"),
            ));
        }
        if let Some(w) = src.weights
            && !w[r].is_finite()
        {
            return Err(src.error(input, &[r], format!("weight {} is not finite", w[r])));
        }
        if let Some(d) = src.delays
            && !(d[r] >= 0.0 && d[r].is_finite())
        {
            return Err(src.error(input, &[r], format!("delay {} ms must be finite and >= 0", d[r])));
        }
        counts[pre as usize + 1] += 1;
    }
    for i in 0..input.n_pre {
        counts[i + 1] += counts[i];
    }
    let row_ptr = counts;
    let mut fill: Vec<u64> = row_ptr[..input.n_pre].to_vec();
    let mut perm = vec![0u32; m];
    for (r, &(pre, _)) in src.rows.iter().enumerate() {
        perm[fill[pre as usize] as usize] = r as u32;
        fill[pre as usize] += 1;
    }
    for w in row_ptr.windows(2) {
        let row = &mut perm[w[0] as usize..w[1] as usize];
        row.sort_by_key(|&r| src.rows[r as usize].1);
        if !input.multapses
            && let Some(d) = row
                .windows(2)
                .find(|d| src.rows[d[0] as usize].1 == src.rows[d[1] as usize].1)
        {
            let (pre, post) = src.rows[d[0] as usize];
            return Err(src.error(
                input,
                &[d[0] as usize, d[1] as usize],
                format!("both connect {pre} -> {post}, but multapses are not allowed"),
            ));
        }
    }
    Ok(Connectivity {
        row_ptr,
        post: perm.iter().map(|&r| src.rows[r as usize].1).collect(),
        weight: src.weights.map(|w| perm.iter().map(|&r| w[r as usize]).collect()),
        delay: src.delays.map(|d| perm.iter().map(|&r| d[r as usize]).collect()),
    })
}

/// A list read from a text file.
pub(super) struct ParsedList {
    pub(super) rows: Vec<(u32, u32)>,
    pub(super) weights: Option<Vec<f64>>,
    pub(super) delays: Option<Vec<f64>>,
    /// 1-based line of each row.
    pub(super) lines: Vec<usize>,
}

/// A pre or post index: a non-negative integer, also written as a float (`3.0`).
fn parse_index(s: &str) -> Option<u32> {
    s.parse::<u32>().ok().or_else(|| {
        let x: f64 = s.parse().ok()?;
        (x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX)).then_some(x as u32)
    })
}

/// Reads a list file (`pre post [weight [delay]]` per line).
pub(super) fn parse_list_file(input: &ConnectInput, path: &Path) -> ConnectResult<ParsedList> {
    let text = std::fs::read_to_string(path).map_err(|e| ConnectError::file(path, e))?;
    let err = |line: usize, m: String| {
        ConnectError::file(path, format!("line {line}: {m} (projection '{}')", input.projection))
    };
    let mut out = ParsedList {
        rows: Vec::new(),
        weights: None,
        delays: None,
        lines: Vec::new(),
    };
    let mut width: Option<(usize, usize)> = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let data = line.split('#').next().unwrap_or("");
        let fields: Vec<&str> = data
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .collect();
        if fields.is_empty() {
            continue;
        }
        if !(2..=4).contains(&fields.len()) {
            return Err(err(
                n,
                format!("expected 'pre post [weight [delay]]', found {} fields", fields.len()),
            ));
        }
        match width {
            None => {
                width = Some((fields.len(), n));
                if fields.len() >= 3 {
                    out.weights = Some(Vec::new());
                }
                if fields.len() == 4 {
                    out.delays = Some(Vec::new());
                }
            }
            Some((w, first)) if w != fields.len() => {
                return Err(err(n, format!("{} fields, but line {first} has {w}", fields.len())));
            }
            _ => {}
        }
        let pre = parse_index(fields[0])
            .ok_or_else(|| err(n, format!("pre index '{}' is not a non-negative integer", fields[0])))?;
        let post = parse_index(fields[1])
            .ok_or_else(|| err(n, format!("post index '{}' is not a non-negative integer", fields[1])))?;
        out.rows.push((pre, post));
        out.lines.push(n);
        for (slot, col, what) in [(&mut out.weights, 2, "weight"), (&mut out.delays, 3, "delay")] {
            if let Some(v) = slot {
                let x: f64 = fields[col]
                    .parse()
                    .map_err(|_| err(n, format!("{what} '{}' is not a number", fields[col])))?;
                v.push(x);
            }
        }
    }
    Ok(out)
}
