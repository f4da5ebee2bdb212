//! Scene values addressed by path (`populations.exc.params.tau_m`,
//! `projections.ee.weight`, `timeline.0.ms`): where they are in the text
//! (line and column for error messages) and `--set PATH=VALUE` edits.
//!
//! The text is read into a light tree of spans (structs, lists, maps,
//! atoms) that keeps byte offsets, so an edit replaces exactly the value's
//! text and everything else — comments included — stays as written.

use crate::error::{CortecsError, Result};

/// A value of the scene text: its byte span and its parts.
#[derive(Debug)]
pub(crate) struct Node {
    /// First byte (the struct or variant name included).
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// A number, string, identifier or unit variant.
    Atom,
    /// A list or tuple: its items.
    Seq(Vec<Node>),
    /// A struct (`Name(a: 1)` or `(a: 1)`) or a map (`{"a": 1}`): (key, key offset, value).
    Fields {
        entries: Vec<(String, usize, Node)>,
        map: bool,
    },
}

struct Reader<'a> {
    s: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn skip(&mut self) {
        loop {
            while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
                self.at += 1;
            }
            if self.s[self.at..].starts_with(b"//") {
                while self.at < self.s.len() && self.s[self.at] != b'\n' {
                    self.at += 1;
                }
            } else if self.s[self.at..].starts_with(b"/*") {
                let mut depth = 0;
                while self.at < self.s.len() {
                    if self.s[self.at..].starts_with(b"/*") {
                        depth += 1;
                        self.at += 2;
                    } else if self.s[self.at..].starts_with(b"*/") {
                        depth -= 1;
                        self.at += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        self.at += 1;
                    }
                }
            } else {
                return;
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip();
        self.s.get(self.at).copied()
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.at += 1)
    }

    fn ident(&mut self) -> usize {
        let start = self.at;
        while self.at < self.s.len() && (self.s[self.at].is_ascii_alphanumeric() || self.s[self.at] == b'_') {
            self.at += 1;
        }
        start
    }

    fn string(&mut self) -> Option<()> {
        if self.s[self.at] == b'r' {
            self.at += 1;
            let hashes = self.s[self.at..].iter().take_while(|&&c| c == b'#').count();
            self.at += hashes + 1;
            let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            loop {
                // (an unterminated `r#` at the end of the text has no closing quote)
                if self.at >= self.s.len() {
                    return None;
                }
                if self.s[self.at..].starts_with(&close) {
                    break;
                }
                self.at += 1;
            }
            self.at += close.len();
            return Some(());
        }
        self.at += 1;
        while *self.s.get(self.at)? != b'"' {
            self.at += if self.s[self.at] == b'\\' { 2 } else { 1 };
        }
        self.at += 1;
        Some(())
    }

    fn value(&mut self) -> Option<Node> {
        let start = {
            self.peek()?;
            self.at
        };
        let c = self.s[self.at];
        let raw = c == b'r' && matches!(self.s.get(self.at + 1), Some(b'"' | b'#'));
        if c == b'"' || raw {
            self.string()?;
            return Some(Node {
                start,
                end: self.at,
                kind: Kind::Atom,
            });
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            self.ident();
            if self.peek() == Some(b'(') {
                let mut node = self.group(b'(', b')')?;
                node.start = start;
                return Some(node);
            }
            let end = start
                + self.s[start..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
            return Some(Node {
                start,
                end,
                kind: Kind::Atom,
            });
        }
        match c {
            b'(' => self.group(b'(', b')'),
            b'[' => self.group(b'[', b']'),
            b'{' => self.group(b'{', b'}'),
            _ => {
                while self.at < self.s.len() && !b",)]}: \t\r\n/".contains(&self.s[self.at]) {
                    self.at += 1;
                }
                (self.at > start).then_some(Node {
                    start,
                    end: self.at,
                    kind: Kind::Atom,
                })
            }
        }
    }

    /// `open ... close` from the current position: a struct, tuple, list or map.
    fn group(&mut self, open: u8, close: u8) -> Option<Node> {
        let start = self.at;
        self.expect(open)?;
        let keyed = open == b'{' || (open == b'(' && self.is_field());
        let (mut items, mut entries) = (Vec::new(), Vec::new());
        while self.peek()? != close {
            if keyed {
                let key = self.value()?;
                self.expect(b':')?;
                let text = String::from_utf8_lossy(&self.s[key.start..key.end]);
                let name = text.trim_matches('"').to_string();
                entries.push((name, key.start, self.value()?));
            } else {
                items.push(self.value()?);
            }
            if self.peek()? == b',' {
                self.at += 1;
            } else if self.peek()? != close {
                return None;
            }
        }
        self.at += 1;
        let kind = if keyed {
            Kind::Fields {
                entries,
                map: open == b'{',
            }
        } else {
            Kind::Seq(items)
        };
        Some(Node {
            start,
            end: self.at,
            kind,
        })
    }

    /// True when the next tokens are `ident :` (a struct's first field).
    fn is_field(&mut self) -> bool {
        let save = self.at;
        let _ = self.peek();
        let id = self.ident();
        let yes = self.at > id && self.peek() == Some(b':');
        self.at = save;
        yes
    }
}

/// The span tree of a scene text (which must be well-formed RON).
pub(crate) fn tree(text: &str) -> Option<Node> {
    Reader {
        s: text.as_bytes(),
        at: 0,
    }
    .value()
}

impl Node {
    /// The child a path segment names: a field or map key; a list index;
    /// or, in a list, the item whose `name` field is that string.
    fn child(&self, text: &str, seg: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Fields { entries, .. } => entries.iter().find(|(k, _, _)| k == seg).map(|(_, _, v)| v),
            Kind::Seq(items) => match seg.parse::<usize>() {
                Ok(i) => items.get(i),
                Err(_) => items.iter().find(|item| {
                    item.child(text, "name")
                        .is_some_and(|n| text[n.start..n.end].trim_matches('"') == seg)
                }),
            },
            Kind::Atom => None,
        }
    }

    /// The node at `path` (segments), if it is written in the text.
    pub(crate) fn find(&self, text: &str, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, seg| node.child(text, seg))
    }

    /// The keys or names a node offers, for "did you mean".
    fn keys(&self, text: &str) -> Vec<String> {
        match &self.kind {
            Kind::Fields { entries, .. } => entries.iter().map(|(k, _, _)| k.clone()).collect(),
            Kind::Seq(items) => items
                .iter()
                .filter_map(|i| i.child(text, "name"))
                .map(|n| text[n.start..n.end].trim_matches('"').to_string())
                .collect(),
            Kind::Atom => Vec::new(),
        }
    }
}

/// Byte span of the outermost value that ends at byte `at` (or spans it).
pub(crate) fn value_at(text: &str, at: usize) -> Option<(usize, usize)> {
    fn walk(n: &Node, at: usize) -> Option<(usize, usize)> {
        if n.end == at {
            return Some((n.start, n.end));
        }
        let children: Vec<&Node> = match &n.kind {
            Kind::Seq(items) => items.iter().collect(),
            Kind::Fields { entries, .. } => entries.iter().map(|(_, _, v)| v).collect(),
            Kind::Atom => Vec::new(),
        };
        children
            .into_iter()
            .filter(|c| c.start <= at && at <= c.end)
            .find_map(|c| walk(c, at))
    }
    walk(&tree(text)?, at)
}

/// Byte offset of 1-based `line` and `col` in `text`.
pub(crate) fn offset(text: &str, line: usize, col: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[start.min(text.len())..];
    start
        + rest
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

/// 1-based line and column of byte `at` in `text`.
pub(crate) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..].chars().count() + 1;
    (line, col)
}

/// Byte offset of the value at `path` (dot-separated), or of its nearest
/// written ancestor.
pub(crate) fn offset_of(text: &str, path: &[&str]) -> usize {
    let Some(root) = tree(text) else { return 0 };
    let mut node = &root;
    for seg in path {
        match node.child(text, seg) {
            Some(n) => node = n,
            None => break,
        }
    }
    node.start
}

/// The scene text with the value at `path` (`a.b.0.c`) replaced by
/// `value` (RON text), or added when the last segment is a struct field or
/// map key not written yet. The result is parsed and validated as any scene.
pub fn set_path(text: &str, path: &str, value: &str) -> Result<String> {
    let bad = |m: String| CortecsError::InvalidRequest(format!("--set {path}={value}: {m}"));
    let segs: Vec<&str> = path.split('.').collect();
    if path.is_empty() || segs.iter().any(|s| s.is_empty()) {
        return Err(bad("the path is empty or has an empty segment".into()));
    }
    let root = tree(text).ok_or_else(|| bad("the scene is not well-formed".into()))?;
    let mut node = &root;
    for (k, seg) in segs.iter().enumerate() {
        if let Some(n) = node.child(text, seg) {
            node = n;
            continue;
        }
        let last = k + 1 == segs.len();
        let Kind::Fields { entries, map } = &node.kind else {
            let keys = node.keys(text);
            let hint = crate::error::did_you_mean(seg, &keys);
            return Err(bad(format!("no item '{seg}' in '{}'{hint}", segs[..k].join("."))));
        };
        // add the missing field (or the `params` map holding the last key)
        let rest = &segs[k..];
        let written = if last {
            value.to_string()
        } else if rest.len() == 2 && *seg == "params" {
            format!("{{\"{}\": {value}}}", rest[1])
        } else {
            let keys: Vec<String> = entries.iter().map(|(k, _, _)| k.clone()).collect();
            let hint = crate::error::did_you_mean(seg, &keys);
            return Err(bad(format!("'{}' has no '{seg}'{hint}", segs[..k].join("."))));
        };
        let key = if *map { format!("\"{seg}\"") } else { (*seg).to_string() };
        let close = node.end - 1;
        let entry = match entries.last() {
            Some((_, _, v)) => (v.end, format!(", {key}: {written}")),
            None => (close, format!("{key}: {written}")),
        };
        return Ok(format!("{}{}{}", &text[..entry.0], entry.1, &text[entry.0..]));
    }
    Ok(format!("{}{value}{}", &text[..node.start], &text[node.end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "// c\n(\n  dt: 0.1,\n  populations: [\n    (name: \"exc\", size: 4, model: Lif(synapse: CondExp), params: {\"tau_m\": 20.0}), // x, y\n    (name: \"p\", size: 2, model: PoissonSource),\n  ],\n  timeline: [Run(ms: 5.0), Set(population: \"exc\", name: \"v\", value: r#\"-65 + i\"#)],\n)";

    #[test]
    fn paths_find_fields_names_indices_and_keys() {
        let root = tree(TEXT).unwrap();
        let at = |p: &str| {
            let n = root.find(TEXT, &p.split('.').collect::<Vec<_>>()).unwrap();
            &TEXT[n.start..n.end]
        };
        assert_eq!(at("dt"), "0.1");
        assert_eq!(at("populations.exc.params.tau_m"), "20.0");
        assert_eq!(at("populations.1.model"), "PoissonSource");
        assert_eq!(at("populations.exc.model.synapse"), "CondExp");
        assert_eq!(at("timeline.0.ms"), "5.0");
        assert_eq!(at("timeline.1.value"), "r#\"-65 + i\"#");
        assert_eq!(line_col(TEXT, offset_of(TEXT, &["timeline", "1"])), (8, 28));
    }

    #[test]
    fn set_replaces_or_adds_and_keeps_the_rest() {
        let t = set_path(TEXT, "populations.exc.params.tau_m", "10.0").unwrap();
        assert!(t.contains("{\"tau_m\": 10.0}") && t.contains("// x, y"), "{t}");
        let t = set_path(TEXT, "populations.p.params.rate", "5.0").unwrap();
        assert!(t.contains("model: PoissonSource, params: {\"rate\": 5.0})"), "{t}");
        let t = set_path(TEXT, "seed", "7").unwrap();
        assert!(t.contains("value: r#\"-65 + i\"#)], seed: 7,\n)"), "{t}");
        let e = set_path(TEXT, "populations.exd.size", "3").unwrap_err().to_string();
        assert_eq!(
            e,
            "--set populations.exd.size=3: no item 'exd' in 'populations' (did you mean 'exc'?)"
        );
        let e = set_path(TEXT, "populations.exc.modle.synapse", "x")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--set populations.exc.modle.synapse=x: 'populations.exc' has no 'modle' (did you mean 'model'?)"
        );
    }
}
