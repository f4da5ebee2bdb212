//! Cross-cutting tests of the front: strategies and probabilities through serde, and lost closures through connect.

use super::*;

#[test]
fn strategies_read_and_write_with_expressions_as_plain_strings() {
    // as scene files are read
    let ron = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let s: Strategy = ron
        .from_str(r#"DistanceProbability(p: "0.3 * exp(-d / 75)", cutoff: 300.0)"#)
        .unwrap();
    assert!(
        matches!(&s, Strategy::DistanceProbability { p: ProbabilityFn::Expr(e), cutoff: Some(c) }
        if e == "0.3 * exp(-d / 75)" && *c == 300.0)
    );
    let text = ron::to_string(&s).unwrap();
    assert_eq!(
        text,
        r#"DistanceProbability(p:"0.3 * exp(-d / 75)",cutoff:Some(300.0))"#
    );
    assert!(matches!(
        ron.from_str(&text).unwrap(),
        Strategy::DistanceProbability { .. }
    ));
    let s: Strategy = ron.from_str("FixedProbability(p: 0.1)").unwrap();
    assert!(matches!(
        s,
        Strategy::FixedProbability {
            p: 0.1,
            equalize_efferents: false
        }
    ));
    // a closure is a marker of its kind, read back as `Lost`
    let p = ProbabilityFn::of_pair(|_, _| 0.5);
    let text = ron::to_string(&p).unwrap();
    assert_eq!(text, r#"{"closure":"pair"}"#);
    let back: ProbabilityFn = ron.from_str(&text).unwrap();
    assert!(matches!(&back, ProbabilityFn::Lost(k) if k == LOST_PAIR), "{back:?}");
    // binary: the layout checkpoints have always had (variant, closure kind)
    let cfg = bincode::config::standard();
    let s = Strategy::DistanceProbability {
        p: ProbabilityFn::of_distance(|d| d),
        cutoff: None,
    };
    let bytes = bincode::serde::encode_to_vec(&s, cfg).unwrap();
    assert_eq!(bytes, [6, 1, 3, 0]);
    let (back, _): (Strategy, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert!(matches!(&back, Strategy::DistanceProbability { p: ProbabilityFn::Lost(k), .. } if k == LOST_DISTANCE));
    let s = Strategy::IndexProbability { p: "i".into() };
    assert_eq!(bincode::serde::encode_to_vec(&s, cfg).unwrap(), [10, 0, 1, b'i']);
}

#[test]
fn a_lost_closure_is_refused_by_name() {
    let input = ConnectInput::new("lost", 4, 4);
    for s in [
        Strategy::IndexProbability {
            p: ProbabilityFn::Lost(LOST_PAIR.into()),
        },
        Strategy::DistanceProbability {
            p: ProbabilityFn::Lost(LOST_DISTANCE.into()),
            cutoff: None,
        },
    ] {
        let e = connect(&s, &input).unwrap_err().to_string();
        assert!(
            e.contains("lost") && e.contains("Rust closure") && e.contains(s.name()),
            "{e}"
        );
    }
}
