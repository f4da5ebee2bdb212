//! The sign-free pair-STDP kernels (uniform signs and factor) against the
//! general ones, bit for bit, on stores of each sign.

use super::*;
use crate::rng::Stream;
use crate::store::{Column, SynapseStore};

/// A Dale store of `n` x `n` with about half the pairs, all of `sign`, and a plasticity factor of 0.7.
fn store(n: u32, sign: i8, rng: &mut Stream) -> SynapseStore {
    let (mut row_ptr, mut post, mut w, mut s) = (vec![0u64], vec![], vec![], vec![]);
    for _ in 0..n {
        for j in 0..n {
            if rng.uniform() < 0.5 {
                post.push(j);
                w.push(f32::from(sign) * (0.05 + 0.9 * rng.uniform() as f32));
                s.push(sign);
            }
        }
        row_ptr.push(post.len() as u64);
    }
    let mut st = SynapseStore::from_pre_rows(n, n, row_ptr, post, w, s, Column::Uniform(2)).unwrap();
    st.dale = true;
    st.plasticity = Column::Uniform(0.7);
    st
}

fn rule(dependence: Dependence) -> Learning {
    Learning::new(
        Rule::Stdp(Stdp {
            a_plus: 0.03,
            a_minus: 0.035,
            dependence,
            ..Stdp::default()
        }),
        0.9,
    )
    .w_min(0.02)
}

/// Runs 300 steps of random pre and post spikes; `general`: hide the uniform sign from the kernels.
fn run(sign: i8, dependence: Dependence, general: bool) -> (Vec<u32>, Vec<f64>) {
    let n = 30;
    let mut rng = Stream::from_seed(8);
    let mut st = store(n, sign, &mut rng);
    let mut plastic = Plastic::new(&[rule(dependence)], n as usize, n as usize, st.len(), 2, 1);
    let (mut exc, mut inh) = (vec![0.0; n as usize], vec![0.0; n as usize]);
    for step in 0..300u64 {
        if general {
            let mut index = plastic.index.take().unwrap_or_else(|| PostIndex::of(&st));
            index.uniform_sign = None;
            plastic.index = Some(index);
        }
        decay(&mut plastic, 0.1);
        arrive(&mut plastic, &mut st, step, &mut exc, &mut inh, false, true);
        let pre: Vec<u32> = (0..n).filter(|_| rng.uniform() < 0.1).collect();
        let post: Vec<u32> = (0..n).filter(|_| rng.uniform() < 0.1).collect();
        depart(&mut plastic, &mut st, step, &pre, &post, 0.1, true);
        if !general {
            assert_eq!(plastic.index.as_ref().unwrap().uniform_sign, Some(sign));
        }
    }
    let psp = exc.iter().chain(&inh).copied().collect();
    (st.weight.iter().map(|w| w.to_bits()).collect(), psp)
}

#[test]
fn sign_free_stdp_equals_the_general_kernel() {
    for sign in [1, -1] {
        for dep in [Dependence::Additive, Dependence::Multiplicative] {
            let start = {
                let mut rng = Stream::from_seed(8);
                store(30, sign, &mut rng)
                    .weight
                    .iter()
                    .map(|w| w.to_bits())
                    .collect::<Vec<_>>()
            };
            let (fast, general) = (run(sign, dep, false), run(sign, dep, true));
            assert!(fast.0 != start, "nothing learned");
            assert!(fast.1.iter().any(|&x| x != 0.0), "no PSP delivered");
            assert!(fast == general, "sign {sign}, {dep:?}: kernels differ");
        }
    }
}
