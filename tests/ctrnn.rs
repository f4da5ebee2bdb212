//! W4: the engine's CTRNN forward pass against a direct ndarray
//! implementation of nn4n's equations and against torch's reference output.

use cortecs::workloads::{Ctrnn, CtrnnWeights};
use ndarray::{Array1, Array2, Array3, Axis, s};
use ndarray_npy::read_npy;

fn load2(name: &str) -> Array2<f32> {
    read_npy(format!("tests/data/w4/{name}.npy")).unwrap()
}
fn load1(name: &str) -> Array1<f32> {
    read_npy(format!("tests/data/w4/{name}.npy")).unwrap()
}

/// v_t = (1 - a) v_{t-1} + a (W_hid tanh(v_{t-1}) + b_hid + W_in u_t); y_t = W_out tanh(v_t) + b_out.
fn reference_forward(w: &CtrnnWeights, u: &Array3<f32>, alpha: f32) -> Array3<f32> {
    let (steps, batch, _) = u.dim();
    let hidden = w.w_hid.nrows();
    let mut v = Array2::<f32>::zeros((hidden, batch));
    let mut y = Array3::<f32>::zeros((steps, batch, w.w_out.nrows()));
    for t in 0..steps {
        let r = v.mapv(f32::tanh);
        let ut = u.slice(s![t, .., ..]).t().to_owned(); // n_in x batch
        let drive = w.w_hid.dot(&r) + &w.w_in.dot(&ut) + w.b_hid.view().insert_axis(Axis(1));
        v = v.mapv(|x| (1.0 - alpha) * x) + drive.mapv(|x| alpha * x);
        let out = w.w_out.dot(&v.mapv(f32::tanh)) + w.b_out.view().insert_axis(Axis(1));
        y.slice_mut(s![t, .., ..]).assign(&out.t());
    }
    y
}

fn max_abs_diff(a: &Array3<f32>, b: &Array3<f32>) -> f32 {
    a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn forward_equals_direct_ndarray_and_torch_reference() {
    let w = CtrnnWeights {
        w_in: load2("W_in"),
        w_hid: load2("W_hid"),
        b_hid: load1("b_hid"),
        w_out: load2("W_out"),
        b_out: load1("b_out"),
    };
    let u: Array3<f32> = read_npy("tests/data/w4/u.npy").unwrap();
    let y0: Array3<f32> = read_npy("tests/data/w4/y0.npy").unwrap();
    let mut net = Ctrnn::from_weights(&w, 32, 10.0, 100.0).unwrap();
    let y = net.forward(&u);
    let direct = reference_forward(&w, &u, 0.1);
    assert!(
        max_abs_diff(&y, &direct) < 1e-5,
        "engine vs ndarray: {}",
        max_abs_diff(&y, &direct)
    );
    assert!(
        max_abs_diff(&y, &y0) < 1e-5,
        "engine vs torch: {}",
        max_abs_diff(&y, &y0)
    );
    // a second forward pass starts again from the zero state
    let again = net.forward(&u);
    assert_eq!(again, y);
}

#[test]
fn forward_h1000_equals_direct_ndarray() {
    let w = CtrnnWeights::uniform(10, 1000, 2, 5);
    let u = Ctrnn::gaussian_input(20, 4, 10, 6);
    let mut net = Ctrnn::from_weights(&w, 4, 10.0, 100.0).unwrap();
    let y = net.forward(&u);
    let direct = reference_forward(&w, &u, 0.1);
    assert!(max_abs_diff(&y, &direct) < 1e-5, "{}", max_abs_diff(&y, &direct));
}
