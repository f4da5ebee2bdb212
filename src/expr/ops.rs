//! The operations and functions of the language and their exact semantics,
//! shared by the parser's constant folding and the compiled closures.

/// Unary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Un {
    Neg,
    Not,
    Exp,
    Ln,
    Log10,
    Log2,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Floor,
    Ceil,
    Round,
    Sign,
    Heaviside,
    Sigmoid,
    Relu,
    /// `x ^ 2`, computed as `x * x`.
    Square,
}

/// Binary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    Min,
    Max,
    Atan2,
    /// `heaviside(x, h0)`.
    Heaviside,
}

#[inline(always)]
pub(super) fn b2f(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

#[inline(always)]
pub(super) fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

#[inline(always)]
pub(super) fn relu(x: f64) -> f64 {
    if x < 0.0 { 0.0 } else { x }
}

#[inline(always)]
pub(super) fn heaviside(x: f64, at_zero: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        0.0
    } else if x == 0.0 {
        at_zero
    } else {
        x
    }
}

pub(super) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[inline(always)]
pub(super) fn pow(a: f64, b: f64) -> f64 {
    if b == 2.0 { a * a } else { a.powf(b) }
}

/// Floored modulo (the result has the sign of `b`), as in Python.
#[inline(always)]
pub(super) fn modulo(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r == 0.0 {
        0.0f64.copysign(b)
    } else if (r < 0.0) != (b < 0.0) {
        r + b
    } else {
        r
    }
}

#[inline(always)]
pub(super) fn min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if b < a {
        b
    } else {
        a
    }
}

#[inline(always)]
pub(super) fn max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if b > a {
        b
    } else {
        a
    }
}

pub(super) fn apply_un(op: Un, x: f64) -> f64 {
    match op {
        Un::Neg => -x,
        Un::Not => b2f(x == 0.0),
        Un::Exp => x.exp(),
        Un::Ln => x.ln(),
        Un::Log10 => x.log10(),
        Un::Log2 => x.log2(),
        Un::Sqrt => x.sqrt(),
        Un::Abs => x.abs(),
        Un::Sin => x.sin(),
        Un::Cos => x.cos(),
        Un::Tan => x.tan(),
        Un::Asin => x.asin(),
        Un::Acos => x.acos(),
        Un::Atan => x.atan(),
        Un::Sinh => x.sinh(),
        Un::Cosh => x.cosh(),
        Un::Tanh => x.tanh(),
        Un::Floor => x.floor(),
        Un::Ceil => x.ceil(),
        Un::Round => x.round(),
        Un::Sign => sign(x),
        Un::Heaviside => heaviside(x, 1.0),
        Un::Sigmoid => sigmoid(x),
        Un::Relu => relu(x),
        Un::Square => x * x,
    }
}

#[inline(always)]
pub(super) fn apply_bin(op: Bin, a: f64, b: f64) -> f64 {
    match op {
        Bin::Add => a + b,
        Bin::Sub => a - b,
        Bin::Mul => a * b,
        Bin::Div => a / b,
        Bin::Mod => modulo(a, b),
        Bin::Pow => pow(a, b),
        Bin::Lt => b2f(a < b),
        Bin::Le => b2f(a <= b),
        Bin::Gt => b2f(a > b),
        Bin::Ge => b2f(a >= b),
        Bin::Eq => b2f(a == b),
        Bin::Ne => b2f(a != b),
        Bin::And => b2f(a != 0.0 && b != 0.0),
        Bin::Or => b2f(a != 0.0 || b != 0.0),
        Bin::Min => min(a, b),
        Bin::Max => max(a, b),
        Bin::Atan2 => a.atan2(b),
        Bin::Heaviside => heaviside(a, b),
    }
}

/// What a function name stands for.
#[derive(Clone, Copy, Debug)]
pub(super) enum Func {
    Un(Un),
    Bin(Bin),
    Min,
    Max,
    Clip,
    If,
    Heaviside,
}

impl Func {
    /// Least and greatest number of arguments.
    pub(super) fn arity(self) -> (usize, usize) {
        match self {
            Func::Un(_) => (1, 1),
            Func::Bin(_) => (2, 2),
            Func::Min | Func::Max => (1, usize::MAX),
            Func::Clip | Func::If => (3, 3),
            Func::Heaviside => (1, 2),
        }
    }
}

pub(super) const FUNCTIONS: &[(&str, Func)] = &[
    ("abs", Func::Un(Un::Abs)),
    ("acos", Func::Un(Un::Acos)),
    ("asin", Func::Un(Un::Asin)),
    ("atan", Func::Un(Un::Atan)),
    ("atan2", Func::Bin(Bin::Atan2)),
    ("ceil", Func::Un(Un::Ceil)),
    ("clip", Func::Clip),
    ("cos", Func::Un(Un::Cos)),
    ("cosh", Func::Un(Un::Cosh)),
    ("exp", Func::Un(Un::Exp)),
    ("floor", Func::Un(Un::Floor)),
    ("heaviside", Func::Heaviside),
    ("if", Func::If),
    ("ln", Func::Un(Un::Ln)),
    ("log", Func::Un(Un::Ln)),
    ("log10", Func::Un(Un::Log10)),
    ("log2", Func::Un(Un::Log2)),
    ("max", Func::Max),
    ("min", Func::Min),
    ("pow", Func::Bin(Bin::Pow)),
    ("relu", Func::Un(Un::Relu)),
    ("round", Func::Un(Un::Round)),
    ("sigmoid", Func::Un(Un::Sigmoid)),
    ("sign", Func::Un(Un::Sign)),
    ("sin", Func::Un(Un::Sin)),
    ("sinh", Func::Un(Un::Sinh)),
    ("sqrt", Func::Un(Un::Sqrt)),
    ("tan", Func::Un(Un::Tan)),
    ("tanh", Func::Un(Un::Tanh)),
];

/// `1 / c` when it is exact, so that `x / c == x * (1 / c)` for every `x`.
pub(super) fn exact_reciprocal(c: f64) -> Option<f64> {
    let r = 1.0 / c;
    let mantissa = c.to_bits() & ((1u64 << 52) - 1);
    (c.is_normal() && r.is_normal() && mantissa == 0).then_some(r)
}

pub(super) fn lookup_function(name: &str) -> Option<Func> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

#[cfg(test)]
mod tests {
    use crate::expr::testing::{c, ev, same};

    #[test]
    fn comparisons_and_logic() {
        for (src, want) in [
            ("1 < 2", 1.0),
            ("2 < 1", 0.0),
            ("2 <= 2", 1.0),
            ("3 > 2", 1.0),
            ("2 >= 3", 0.0),
            ("2 == 2", 1.0),
            ("2 != 2", 0.0),
            ("2 && 3", 1.0),
            ("2 && 0", 0.0),
            ("0 || 0", 0.0),
            ("0 || -1", 1.0),
        ] {
            assert_eq!(c(src), want, "{src}");
        }
        let nan = ["x"];
        assert_eq!(ev("x < 1", &nan, &[f64::NAN]), 0.0);
        assert_eq!(ev("x == x", &nan, &[f64::NAN]), 0.0);
        assert_eq!(ev("x != x", &nan, &[f64::NAN]), 1.0);
        assert_eq!(ev("!x", &nan, &[f64::NAN]), 0.0);
        assert_eq!(ev("if(x, 1, 2)", &nan, &[f64::NAN]), 1.0);
    }

    #[test]
    fn functions() {
        let x = 0.7f64;
        let cases: &[(&str, f64)] = &[
            ("exp(x)", x.exp()),
            ("log(x)", x.ln()),
            ("ln(x)", x.ln()),
            ("log10(x)", x.log10()),
            ("log2(x)", x.log2()),
            ("sqrt(x)", x.sqrt()),
            ("abs(-x)", x),
            ("sin(x)", x.sin()),
            ("cos(x)", x.cos()),
            ("tan(x)", x.tan()),
            ("asin(x)", x.asin()),
            ("acos(x)", x.acos()),
            ("atan(x)", x.atan()),
            ("atan2(x, 2)", x.atan2(2.0)),
            ("sinh(x)", x.sinh()),
            ("cosh(x)", x.cosh()),
            ("tanh(x)", x.tanh()),
            ("floor(x)", 0.0),
            ("ceil(x)", 1.0),
            ("round(x)", 1.0),
            ("round(-2.5)", -3.0),
            ("sign(-x)", -1.0),
            ("sign(x)", 1.0),
            ("sign(x - x)", 0.0),
            ("min(x, 3, -1, 2)", -1.0),
            ("max(x, 3, -1, 2)", 3.0),
            ("min(x)", x),
            ("pow(x, 3)", x.powf(3.0)),
            ("x ^ 3", x.powf(3.0)),
            ("clip(x, 0, 0.5)", 0.5),
            ("clip(-x, 0, 0.5)", 0.0),
            ("clip(x, 0, 1)", x),
            ("heaviside(x)", 1.0),
            ("heaviside(-x)", 0.0),
            ("heaviside(x - x)", 1.0),
            ("heaviside(x - x, 0.5)", 0.5),
            ("heaviside(-x, 0.5)", 0.0),
            ("sigmoid(x)", 1.0 / (1.0 + (-x).exp())),
            ("relu(x)", x),
            ("relu(-x)", 0.0),
            ("if(x > 0.5, 10, 20)", 10.0),
            ("if(x > 1, 10, 20)", 20.0),
            ("if(x > 0.5, x, -x)", x),
            ("if(x > 1, x, -x)", -x),
            ("-7 % 3", 2.0),
            ("7 % -3", -2.0),
            ("7.5 % 2", 1.5),
            ("x % 0.5", 0.7 % 0.5),
        ];
        for (src, want) in cases {
            let got = ev(src, &["x"], &[x]);
            assert!(same(got, *want), "{src}: got {got}, want {want}");
        }
        assert!(c("min(1, 0/0)").is_nan());
        assert!(ev("max(x, 1)", &["x"], &[f64::NAN]).is_nan());
        assert!(ev("clip(x, 0, 1)", &["x"], &[f64::NAN]).is_nan());
        assert_eq!(c("clip(5, 3, 1)"), 1.0);
    }
}
