//! Learning while it runs: each rule's weight change against hand-computed
//! values and against an event-driven oracle written from the papers'
//! equations (not from the kernels' trace arithmetic).

use cortecs::plasticity::*;
use cortecs::prelude::*;

const DT: f64 = 0.1;

/// `pre` spike-time lists into a plastic all-to-all projection `syn` onto
/// LIF neurons that a driver makes fire at `post` times (one step after
/// each driver spike). Returns the network.
fn spiking_pair(pre: Vec<Vec<f64>>, post: Vec<Vec<f64>>, delay: f64, learning: Learning, w0: f64) -> Network {
    let mut net = Network::new(DT, 7).unwrap();
    let (n_pre, n_post) = (pre.len(), post.len());
    let mut src = PopulationSpec::new("pre", n_pre, ModelKind::SpikeSource).record_spikes(true);
    src.spike_times = Some(Sequence::PerNeuron(pre));
    net.add_population(src).unwrap();
    let mut drv = PopulationSpec::new("drive", n_post, ModelKind::SpikeSource);
    drv.spike_times = Some(Sequence::PerNeuron(post));
    net.add_population(drv).unwrap();
    net.add_population(
        PopulationSpec::new(
            "post",
            n_post,
            ModelKind::Lif {
                synapse: SynapseKind::Delta,
            },
        )
        .param("v_rest", 0.0)
        .param("v_init", 0.0)
        .param("v_reset", 0.0)
        .param("v_thresh", 10.0)
        .param("t_ref", 0.0)
        .param("cm", 1.0)
        .param("tau_m", 1.0)
        .record_spikes(true),
    )
    .unwrap();
    net.connect(
        ProjectionSpec::new("drive", "drive", "post", Strategy::OneToOne)
            .weight(100.0)
            .delay(DT),
    )
    .unwrap();
    net.connect(
        ProjectionSpec::new("syn", "pre", "post", Strategy::AllToAll)
            .weight(w0)
            .delay(delay)
            .learn(learning),
    )
    .unwrap();
    net
}

/// Recorded spike steps of neuron `n` of population `pop`.
fn steps_of(net: &Network, pop: &str, n: u32) -> Vec<u64> {
    let rec = net.population(pop).unwrap().spike_record.as_ref().unwrap();
    rec.iter().filter(|s| s.1 == n).map(|s| s.0).collect()
}

fn w(net: &Network, pre: u32, post: u32) -> f64 {
    f64::from(net.weight("syn", pre, post).unwrap().unwrap())
}

/// One event of a synapse: a pre spike arriving, or a post spike, at a step.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Event {
    Arrive(u64),
    Post(u64),
}

/// Arrivals (pre steps + delay) and post spikes in the order the engine
/// processes them: by step, arrivals before post spikes of the same step.
fn events(pre: &[u64], delay_steps: u64, post: &[u64]) -> Vec<Event> {
    let mut ev: Vec<(u64, u8, Event)> = pre
        .iter()
        .map(|&m| (m + delay_steps, 0, Event::Arrive(m + delay_steps)))
        .chain(post.iter().map(|&n| (n, 1, Event::Post(n))))
        .collect();
    ev.sort_by_key(|e| (e.0, e.1));
    ev.into_iter().map(|e| e.2).collect()
}

/// A trace at step `t` from the spike steps `s` (those before or at `t`, or
/// strictly before with `strict`), event-driven: sum of exponentials
/// (all-to-all) or the latest one (nearest).
fn trace(s: &[u64], t: u64, tau: f64, pairing: Pairing, strict: bool) -> f64 {
    let before = s.iter().filter(|&&x| if strict { x < t } else { x <= t });
    let k = |x: &u64| (-((t - x) as f64) * DT / tau).exp();
    match pairing {
        Pairing::AllToAll => before.map(k).sum(),
        Pairing::Nearest => before.max().map(k).unwrap_or(0.0),
    }
}

/// Pair STDP from the equations, event by event, with bounds and soft bounds.
fn pair_oracle(s: &Stdp, lo: f64, hi: f64, w0: f64, ev: &[Event]) -> f64 {
    let arrivals: Vec<u64> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Arrive(a) => Some(*a),
            _ => None,
        })
        .collect();
    let posts: Vec<u64> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Post(n) => Some(*n),
            _ => None,
        })
        .collect();
    let mut w = w0;
    for e in ev {
        let (plus, minus) = match s.dependence {
            Dependence::Additive => (1.0, 1.0),
            Dependence::Multiplicative => ((hi - w) / (hi - lo), (w - lo) / (hi - lo)),
        };
        match *e {
            Event::Arrive(a) => {
                // post spikes strictly before the arrival (same step: the post spike comes later)
                w -= s.a_minus * minus * trace(&posts, a, s.tau_minus, s.pairing, true);
            }
            Event::Post(n) => {
                w += s.a_plus * plus * trace(&arrivals, n, s.tau_plus, s.pairing, false);
            }
        }
        w = w.clamp(lo, hi);
    }
    w
}

#[test]
fn one_pre_post_pair_potentiates_by_a_plus_exp_minus_lag() {
    // pre at 1.0 ms (step 10), delay 1.0 ms: arrives in step 20; the driver
    // spikes at 6.0 ms (step 60), the post neuron fires in step 61: lag 4.1 ms
    let stdp = Stdp {
        a_plus: 0.01,
        a_minus: 0.012,
        ..Stdp::default()
    };
    let mut net = spiking_pair(
        vec![vec![1.0]],
        vec![vec![6.0]],
        1.0,
        Learning::new(Rule::Stdp(stdp), 1.0),
        0.5,
    );
    net.run_ms(10.0).unwrap();
    assert_eq!(steps_of(&net, "pre", 0), vec![10]);
    assert_eq!(steps_of(&net, "post", 0), vec![61]);
    let want = 0.5 + 0.01 * (-4.1f64 / 20.0).exp();
    assert!((w(&net, 0, 0) - want).abs() < 1e-7, "{} vs {want}", w(&net, 0, 0));
}

#[test]
fn one_post_pre_pair_depresses_by_a_minus_exp_minus_lag() {
    // post fires in step 21; pre at 2.0 ms (step 20) arrives after 1.5 ms in step 35
    let stdp = Stdp {
        a_plus: 0.01,
        a_minus: 0.012,
        ..Stdp::default()
    };
    let mut net = spiking_pair(
        vec![vec![2.0]],
        vec![vec![2.0]],
        1.5,
        Learning::new(Rule::Stdp(stdp), 1.0),
        0.5,
    );
    net.run_ms(10.0).unwrap();
    assert_eq!(steps_of(&net, "post", 0), vec![21]);
    let want = 0.5 - 0.012 * (-1.4f64 / 20.0).exp();
    assert!((w(&net, 0, 0) - want).abs() < 1e-7, "{} vs {want}", w(&net, 0, 0));
}

#[test]
fn arrival_in_the_step_the_post_neuron_fires_is_pre_before_post() {
    // pre at 1.0 ms (step 10) + delay 5.1 ms = step 61, post fires in step 61
    let stdp = Stdp {
        a_plus: 0.01,
        a_minus: 0.012,
        ..Stdp::default()
    };
    let mut net = spiking_pair(
        vec![vec![1.0]],
        vec![vec![6.0]],
        5.1,
        Learning::new(Rule::Stdp(stdp), 1.0),
        0.5,
    );
    net.run_ms(10.0).unwrap();
    assert!((w(&net, 0, 0) - 0.51).abs() < 1e-7, "{}", w(&net, 0, 0));
}

/// Spike trains of 3 pre and 2 post neurons over 60 ms, irregular, with pairs at every lag sign.
fn trains() -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let pre = vec![
        vec![1.0, 4.3, 9.9, 10.0, 22.2, 30.5, 31.0, 47.7],
        vec![3.3, 15.1, 15.4, 28.8, 40.0],
        vec![0.5, 12.0, 25.0, 26.1, 37.3, 44.4, 51.9],
    ];
    let post = vec![
        vec![2.0, 5.0, 11.1, 27.0, 33.3, 45.0],
        vec![8.8, 16.0, 29.9, 30.0, 50.0],
    ];
    (pre, post)
}

fn check_pair_rule(dependence: Dependence, pairing: Pairing, delay: f64) {
    let stdp = Stdp {
        tau_plus: 16.8,
        tau_minus: 33.7,
        a_plus: 0.02,
        a_minus: 0.015,
        dependence,
        pairing,
    };
    let (lo, hi, w0) = (0.1, 0.8, 0.45);
    let learning = Learning::new(Rule::Stdp(stdp), hi).w_min(lo);
    let (pre, post) = trains();
    let mut net = spiking_pair(pre, post, delay, learning, w0);
    net.run_ms(80.0).unwrap();
    let d = (delay / DT).round() as u64;
    for i in 0..3 {
        for j in 0..2 {
            let ev = events(&steps_of(&net, "pre", i), d, &steps_of(&net, "post", j));
            let want = pair_oracle(&stdp, lo, hi, w0, &ev);
            let got = w(&net, i, j);
            assert!(
                (got - want).abs() < 2e-6,
                "{dependence:?} {pairing:?} delay {delay}: w[{i}->{j}] = {got}, oracle {want}"
            );
            assert!(got != w0, "{i}->{j} never changed");
        }
    }
}

#[test]
fn pair_stdp_additive_all_to_all_equals_the_oracle() {
    check_pair_rule(Dependence::Additive, Pairing::AllToAll, 1.0);
    check_pair_rule(Dependence::Additive, Pairing::AllToAll, 0.1);
}

#[test]
fn pair_stdp_additive_nearest_equals_the_oracle() {
    check_pair_rule(Dependence::Additive, Pairing::Nearest, 1.0);
}

#[test]
fn pair_stdp_multiplicative_all_to_all_equals_the_oracle() {
    check_pair_rule(Dependence::Multiplicative, Pairing::AllToAll, 2.3);
}

#[test]
fn pair_stdp_multiplicative_nearest_equals_the_oracle() {
    check_pair_rule(Dependence::Multiplicative, Pairing::Nearest, 0.7);
}

#[test]
fn additive_stdp_stops_at_the_hard_bounds() {
    // many pre-before-post pairs push the weight up to w_max and no further
    let stdp = Stdp {
        a_plus: 0.05,
        a_minus: 0.0,
        ..Stdp::default()
    };
    let pre: Vec<f64> = (0..40).map(|k| 1.0 + 2.0 * k as f64).collect();
    let post: Vec<f64> = pre.iter().map(|t| t + 0.5).collect();
    let mut net = spiking_pair(vec![pre], vec![post], 0.1, Learning::new(Rule::Stdp(stdp), 0.7), 0.5);
    net.run_ms(100.0).unwrap();
    assert_eq!(w(&net, 0, 0), f64::from(0.7f32));
}

#[test]
fn triplet_stdp_equals_the_hand_computed_triplet() {
    // pre arrives in step 20; post fires in steps 41 and 61:
    // first post: r1 * a2_plus; second: r1 * (a2_plus + a3_plus * o2), o2 before the second spike
    let t = Triplet {
        tau_plus: 16.8,
        tau_minus: 33.7,
        tau_x: 101.0,
        tau_y: 125.0,
        a2_plus: 0.005,
        a3_plus: 0.0062,
        a2_minus: 0.007,
        a3_minus: 0.00023,
    };
    let mut net = spiking_pair(
        vec![vec![1.0]],
        vec![vec![4.0, 6.0]],
        1.0,
        Learning::new(Rule::Triplet(t), 1.0),
        0.5,
    );
    net.run_ms(10.0).unwrap();
    assert_eq!(steps_of(&net, "post", 0), vec![41, 61]);
    let r1 = |lag: f64| (-lag / 16.8).exp();
    let first = r1(2.1) * 0.005;
    let second = r1(4.1) * (0.005 + 0.0062 * (-2.0f64 / 125.0).exp());
    let want = 0.5 + first + second;
    assert!((w(&net, 0, 0) - want).abs() < 1e-7, "{} vs {want}", w(&net, 0, 0));

    // and a post-pre-pre case: depression o1 * (a2_minus + a3_minus * r2)
    let mut net = spiking_pair(
        vec![vec![3.0, 5.0]],
        vec![vec![1.0]],
        0.1,
        Learning::new(Rule::Triplet(t), 1.0),
        0.5,
    );
    net.run_ms(10.0).unwrap();
    // post in step 11; arrivals in steps 31 and 51
    let o1 = |lag: f64| (-lag / 33.7).exp();
    let d1 = o1(2.0) * 0.007;
    let d2 = o1(4.0) * (0.007 + 0.00023 * (-2.0f64 / 101.0).exp());
    let want = 0.5 - d1 - d2;
    assert!((w(&net, 0, 0) - want).abs() < 1e-7, "{} vs {want}", w(&net, 0, 0));
}

#[test]
fn reward_stdp_moves_weights_only_while_the_modulator_is_set() {
    let r = RewardStdp {
        tau_plus: 20.0,
        tau_minus: 20.0,
        a_plus: 1.0,
        a_minus: 1.0,
        tau_c: 200.0,
        eta: 0.01,
    };
    // pre arrives in step 20, post fires in step 41: eligibility 1 * exp(-2.1 / 20)
    let mut net = spiking_pair(
        vec![vec![1.0]],
        vec![vec![4.0]],
        1.0,
        Learning::new(Rule::RewardStdp(r), 1.0),
        0.5,
    );
    net.run_steps(100);
    assert_eq!(w(&net, 0, 0), 0.5, "no modulator, no change");
    net.set_modulator("syn", 2.0).unwrap();
    net.run_steps(50); // steps 100..149
    net.set_modulator("syn", 0.0).unwrap();
    net.run_steps(50);
    let c0 = (-2.1f64 / 20.0).exp();
    // in step k the eligibility is c0 * exp(-(k - 41) dt / tau_c)
    let want = 0.5
        + (100..150)
            .map(|k| 0.01 * 2.0 * DT * c0 * (-((k - 41) as f64) * DT / 200.0).exp())
            .sum::<f64>();
    assert!((w(&net, 0, 0) - want).abs() < 1e-6, "{} vs {want}", w(&net, 0, 0));
    assert!(net.set_modulator("syn", f64::NAN).is_err());
}

#[test]
fn a_synapse_created_in_a_lesioned_slot_starts_with_no_eligibility() {
    let r = RewardStdp {
        tau_plus: 20.0,
        tau_minus: 20.0,
        a_plus: 1.0,
        a_minus: 1.0,
        tau_c: 200.0,
        eta: 0.01,
    };
    // pre arrives in step 20, post fires in step 41: the synapse becomes eligible
    let mut net = spiking_pair(
        vec![vec![1.0]],
        vec![vec![4.0]],
        1.0,
        Learning::new(Rule::RewardStdp(r), 1.0),
        0.5,
    );
    net.run_steps(100);
    let eligibility = |net: &Network| net.projection("syn").unwrap().plastic().unwrap().learners[0].eligibility(0);
    assert!(eligibility(&net) > 0.5);
    // a new synapse of the same pair takes the removed slot: it was eligible for nothing
    net.lesion("syn", 0, 0).unwrap();
    let k = net.projection_index("syn").unwrap();
    assert_eq!(
        net.create_synapse(k, 0, 0, 0.5, None).unwrap(),
        0,
        "the slot is taken again"
    );
    assert_eq!(eligibility(&net), 0.0);
    net.set_modulator("syn", 2.0).unwrap();
    net.run_steps(50);
    assert_eq!(w(&net, 0, 0), 0.5, "no pairing since it was created, no change");
}

/// A fixed-rate pre population (alpha = 1, identity: r = bias) into a rate
/// post population (identity, alpha = 1: r_post = W r_pre + bias).
fn rate_pair(r_pre: Vec<f64>, b_post: Vec<f64>, learning: Learning, w0: f64) -> Network {
    let mut net = Network::new(1.0, 3).unwrap();
    let id = ModelKind::Rate {
        activation: Activation::Identity,
    };
    let (n_pre, n_post) = (r_pre.len(), b_post.len());
    net.add_population(
        PopulationSpec::new("pre", n_pre, id.clone())
            .param("tau", 1.0)
            .param("bias", Value::Array(r_pre.into())),
    )
    .unwrap();
    net.add_population(
        PopulationSpec::new("post", n_post, id)
            .param("tau", 1.0)
            .param("bias", Value::Array(b_post.into())),
    )
    .unwrap();
    net.connect(
        ProjectionSpec::new("syn", "pre", "post", Strategy::AllToAll)
            .weight(w0)
            .learn(learning),
    )
    .unwrap();
    net
}

/// Runs the rate oracle: each step r_post = W r_pre + b, then W += dw(W, r_pre, r_post).
fn rate_oracle(
    r_pre: &[f64],
    b: &[f64],
    w0: f64,
    steps: usize,
    mut dw: impl FnMut(usize, usize, f64, &[f64]) -> f64,
) -> Vec<Vec<f64>> {
    let mut w = vec![vec![w0; r_pre.len()]; b.len()];
    for _ in 0..steps {
        let post: Vec<f64> = (0..b.len())
            .map(|j| b[j] + (0..r_pre.len()).map(|i| w[j][i] * r_pre[i]).sum::<f64>())
            .collect();
        for (j, row) in w.iter_mut().enumerate() {
            for (i, wji) in row.iter_mut().enumerate() {
                *wji = (*wji + dw(i, j, *wji, &post)).max(0.0);
            }
        }
    }
    w
}

fn assert_rates(net: &Network, want: &[Vec<f64>], tol: f64) {
    for (j, row) in want.iter().enumerate() {
        for (i, &x) in row.iter().enumerate() {
            let got = w(net, i as u32, j as u32);
            assert!((got - x).abs() < tol, "w[{i}->{j}] = {got}, want {x}");
        }
    }
}

#[test]
fn hebbian_with_decay_one_step_by_hand_then_the_oracle() {
    let h = Hebbian { eta: 0.01, decay: 0.1 };
    let mut net = rate_pair(vec![0.5, 1.0], vec![0.2], Learning::unbounded(Rule::Hebbian(h)), 0.3);
    net.run_steps(1);
    // r_post = 0.2 + 0.3 * 1.5 = 0.65; dw = dt * (eta * r_post * r_pre - decay * w)
    assert!((w(&net, 0, 0) - (0.3 + 0.01 * 0.65 * 0.5 - 0.1 * 0.3)).abs() < 1e-7);
    assert!((w(&net, 1, 0) - (0.3 + 0.01 * 0.65 * 1.0 - 0.1 * 0.3)).abs() < 1e-7);
    net.run_steps(29);
    let want = rate_oracle(&[0.5, 1.0], &[0.2], 0.3, 30, |i, j, w, post| {
        0.01 * post[j] * [0.5, 1.0][i] - 0.1 * w
    });
    assert_rates(&net, &want, 1e-6);
}

#[test]
fn oja_normalises_the_weight_vector() {
    let o = Oja { eta: 0.05 };
    let pre = [0.6, 0.8];
    let mut net = rate_pair(pre.to_vec(), vec![0.0], Learning::unbounded(Rule::Oja(o)), 0.2);
    net.run_steps(1);
    // y = 0.2 * 0.6 + 0.2 * 0.8 = 0.28; dw_i = eta * y * (x_i - y * w_i)
    assert!((w(&net, 0, 0) - (0.2 + 0.05 * 0.28 * (0.6 - 0.28 * 0.2))).abs() < 1e-7);
    net.run_steps(1999);
    let want = rate_oracle(&pre, &[0.0], 0.2, 2000, |i, j, w, post| {
        0.05 * post[j] * (pre[i] - post[j] * w)
    });
    assert_rates(&net, &want, 1e-5);
    // Oja's fixed point: the unit vector along the input
    let norm = (w(&net, 0, 0).powi(2) + w(&net, 1, 0).powi(2)).sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "|w| = {norm}");
    assert!((w(&net, 0, 0) - 0.6).abs() < 1e-3);
}

#[test]
fn bcm_threshold_slides_after_the_weights() {
    let c = Bcm {
        eta: 0.02,
        tau_theta: 10.0,
        theta_init: 0.1,
    };
    let pre = [1.0, 0.5];
    let mut net = rate_pair(pre.to_vec(), vec![0.1], Learning::new(Rule::Bcm(c), 2.0), 0.2);
    net.run_steps(1);
    // y = 0.1 + 0.2 * 1.5 = 0.4; dw_i = eta * x_i * y * (y - theta), theta = 0.1
    assert!((w(&net, 0, 0) - (0.2 + 0.02 * 1.0 * 0.4 * 0.3)).abs() < 1e-7);
    net.run_steps(199);
    let mut theta = 0.1;
    let mut wv = [0.2, 0.2];
    for _ in 0..200 {
        let y = 0.1 + wv[0] * pre[0] + wv[1] * pre[1];
        for i in 0..2 {
            wv[i] = (wv[i] + 0.02 * pre[i] * y * (y - theta)).clamp(0.0, 2.0);
        }
        theta += (y * y - theta) / 10.0;
    }
    assert_rates(&net, &[wv.to_vec()], 1e-5);
}

#[test]
fn pes_follows_the_host_error() {
    let p = Pes {
        eta: 0.1,
        error: ErrorSource::Host,
    };
    let pre = [1.0, 2.0];
    let mut l = Learning::unbounded(Rule::Pes(p));
    l.w_min = -10.0;
    let mut net = rate_pair(pre.to_vec(), vec![0.0, 0.0], l, 0.5);
    net.run_steps(3);
    assert_eq!(w(&net, 0, 0), 0.5, "no error, no change");
    net.set_error("syn", &[0.2, -0.4]).unwrap();
    net.run_steps(2);
    // dw_ij = -eta * e_j * r_i per step (dt = 1 ms)
    assert!((w(&net, 1, 0) - (0.5 - 2.0 * 0.1 * 0.2 * 2.0)).abs() < 1e-6);
    assert!((w(&net, 0, 1) - (0.5 + 2.0 * 0.1 * 0.4 * 1.0)).abs() < 1e-6);
    assert!(net.set_error("syn", &[0.1]).is_err(), "one value per post neuron");
}

#[test]
fn scaling_moves_the_rate_toward_the_target() {
    let s = Scaling {
        target: 1.0,
        tau_rate: 5.0,
        eta: 0.01,
        every: 1.0,
    };
    let mut net = rate_pair(vec![1.0, 1.0], vec![0.0], Learning::unbounded(Rule::Scaling(s)), 2.0);
    net.run_steps(2000);
    let r = w(&net, 0, 0) + w(&net, 1, 0);
    assert!((r - 1.0).abs() < 1e-3, "post rate {r} not at the target 1");
    assert!(
        (w(&net, 0, 0) - w(&net, 1, 0)).abs() < 1e-9,
        "multiplicative: ratios kept"
    );
}
