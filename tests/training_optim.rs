//! Each optimizer's first steps against values computed by hand from its
//! formula (PyTorch's documented update rules), Adam's bias correction,
//! weight decay, clipping and learning-rate schedules.
#![cfg(feature = "std")]

use std::collections::HashMap;

use edgegrad::autograd::Tensor;
use edgegrad::optim::*;

/// One parameter `[1.0, -2.0]`; every step sees the gradients `grads[t]`.
fn run(make: impl FnOnce(NamedParams) -> Box<dyn Optimizer>, grads: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let p = Tensor::from_vec(vec![1.0, -2.0], &[2]).requires_grad_(true);
    let mut opt = make(vec![("w".into(), p.clone())]);
    grads
        .iter()
        .map(|g| {
            *p.grad_mut() = Some(g.to_vec());
            opt.step();
            let d = p.to_vec();
            [d[0], d[1]]
        })
        .collect()
}

fn assert_close(got: &[[f32; 2]], want: &[[f64; 2]]) {
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        for k in 0..2 {
            assert!(
                (g[k] as f64 - w[k]).abs() <= 1e-6 * (1.0 + w[k].abs()),
                "step {}: got {g:?}, want {w:?}",
                t + 1
            );
        }
    }
}

const G: [[f32; 2]; 3] = [[0.5, -1.0], [0.2, 0.3], [-0.4, 0.1]];

/// Reference: the textbook formula in f64, per coordinate.
fn reference(mut update: impl FnMut(usize, usize, f64, f64) -> f64) -> Vec<[f64; 2]> {
    let mut p = [1.0f64, -2.0];
    G.iter()
        .enumerate()
        .map(|(t, g)| {
            for k in 0..2 {
                p[k] = update(t + 1, k, p[k], g[k] as f64);
            }
            p
        })
        .collect()
}

#[test]
fn sgd_plain_and_weight_decay() {
    // θ ← θ − γ(g + λθ); by hand: 1 − 0.1·0.5 = 0.95, −2 + 0.1 = −1.9
    let got = run(|p| Box::new(Sgd::new(p, 0.1)), &G);
    assert_close(&got[..1], &[[0.95, -1.9]]);
    assert_close(&got, &reference(|_, _, p, g| p - 0.1 * g));
    let got = run(|p| Box::new(Sgd::new(p, 0.1).weight_decay(0.1)), &G);
    assert_close(&got[..1], &[[0.94, -1.88]]); // 1 − 0.1·(0.5 + 0.1), −2 − 0.1·(−1 − 0.2)
    assert_close(&got, &reference(|_, _, p, g| p - 0.1 * (g + 0.1 * p)));
}

#[test]
fn sgd_momentum_and_nesterov() {
    let mut b = [0.0f64; 2];
    let want = reference(|t, k, p, g| {
        b[k] = if t == 1 { g } else { 0.9 * b[k] + g };
        p - 0.1 * b[k]
    });
    let got = run(|p| Box::new(Sgd::with_momentum(p, 0.1, 0.9)), &G);
    assert_close(
        &got[..2],
        &[
            [0.95, -1.9],
            [0.95 - 0.1 * (0.45 + 0.2), -1.9 - 0.1 * (-0.9 + 0.3)],
        ],
    );
    assert_close(&got, &want);
    // Dampening applies after the first step.
    let mut b = [0.0f64; 2];
    let want = reference(|t, k, p, g| {
        b[k] = if t == 1 { g } else { 0.9 * b[k] + 0.5 * g };
        p - 0.1 * b[k]
    });
    assert_close(
        &run(
            |p| Box::new(Sgd::with_momentum(p, 0.1, 0.9).dampening(0.5)),
            &G,
        ),
        &want,
    );
    let mut b = [0.0f64; 2];
    let want = reference(|t, k, p, g| {
        b[k] = if t == 1 { g } else { 0.9 * b[k] + g };
        p - 0.1 * (g + 0.9 * b[k])
    });
    let got = run(|p| Box::new(Sgd::nesterov(p, 0.1, 0.9)), &G);
    assert_close(&got[..1], &[[1.0 - 0.1 * 0.95, -2.0 + 0.1 * 1.9]]);
    assert_close(&got, &want);
}

#[test]
fn adagrad() {
    let mut s = [0.0f64; 2];
    let want = reference(|_, k, p, g| {
        s[k] += g * g;
        p - 0.1 * g / (s[k].sqrt() + 1e-10)
    });
    let got = run(|p| Box::new(Adagrad::new(p, 0.1)), &G);
    assert_close(&got[..1], &[[0.9, -1.9]]);
    assert_close(&got, &want);
}

#[test]
fn rmsprop_plain_momentum_centered() {
    let (mut v, mut b, mut ga) = ([0.0f64; 2], [0.0f64; 2], [0.0f64; 2]);
    let want = reference(|_, k, p, g| {
        v[k] = 0.99 * v[k] + 0.01 * g * g;
        p - 0.01 * g / (v[k].sqrt() + 1e-8)
    });
    let got = run(|p| Box::new(RmsProp::new(p, 0.01)), &G);
    assert_close(&got[..1], &[[0.9, -1.9]]); // 0.01·0.5/√(0.01·0.25) = 0.1
    assert_close(&got, &want);
    v = [0.0; 2];
    let want = reference(|_, k, p, g| {
        v[k] = 0.99 * v[k] + 0.01 * g * g;
        ga[k] = 0.99 * ga[k] + 0.01 * g;
        b[k] = 0.5 * b[k] + g / ((v[k] - ga[k] * ga[k]).sqrt() + 1e-8);
        p - 0.01 * b[k]
    });
    assert_close(
        &run(
            |p| Box::new(RmsProp::new(p, 0.01).momentum(0.5).centered(true)),
            &G,
        ),
        &want,
    );
}

#[test]
fn adadelta() {
    let (mut v, mut u) = ([0.0f64; 2], [0.0f64; 2]);
    let want = reference(|_, k, p, g| {
        v[k] = 0.9 * v[k] + 0.1 * g * g;
        let d = (u[k] + 1e-6).sqrt() / (v[k] + 1e-6).sqrt() * g;
        u[k] = 0.9 * u[k] + 0.1 * d * d;
        p - d
    });
    assert_close(&run(|p| Box::new(Adadelta::new(p)), &G), &want);
}

fn adam_reference(lr: f64, wd: f64, decoupled: bool) -> Vec<[f64; 2]> {
    let (mut m, mut v) = ([0.0f64; 2], [0.0f64; 2]);
    reference(move |t, k, p, g| {
        let (b1, b2) = (0.9f64, 0.999f64);
        let mut p = p;
        let mut g = g;
        if decoupled {
            p *= 1.0 - lr * wd;
        } else {
            g += wd * p;
        }
        m[k] = b1 * m[k] + (1.0 - b1) * g;
        v[k] = b2 * v[k] + (1.0 - b2) * g * g;
        let mh = m[k] / (1.0 - b1.powi(t as i32));
        let vh = v[k] / (1.0 - b2.powi(t as i32));
        p - lr * mh / (vh.sqrt() + 1e-8)
    })
}

#[test]
fn adam_bias_correction() {
    // With bias correction the first step moves every coordinate by lr·sign(g).
    let got = run(|p| Box::new(Adam::new(p, 0.1)), &G);
    assert_close(&got[..1], &[[0.9, -1.9]]);
    // Without it the step would be lr·0.1g/√(0.001g²) ≈ 0.316 — not what we take.
    assert!((got[0][0] - (1.0 - 0.316)).abs() > 0.1);
    assert_close(&got, &adam_reference(0.1, 0.0, false));
}

#[test]
fn adam_l2_and_adamw_decoupled_decay() {
    assert_close(
        &run(|p| Box::new(Adam::new(p, 0.1).weight_decay(0.1)), &G),
        &adam_reference(0.1, 0.1, false),
    );
    let got = run(|p| Box::new(AdamW::new(p, 0.1)), &G);
    assert_close(
        &got[..1],
        &[[1.0 * (1.0 - 0.001) - 0.1, -2.0 * (1.0 - 0.001) + 0.1]],
    );
    assert_close(&got, &adam_reference(0.1, 0.01, true));
}

#[test]
fn frozen_and_gradless_parameters_are_skipped() {
    let a = Tensor::from_vec(vec![1.0], &[1]).requires_grad_(true);
    let b = Tensor::from_vec(vec![1.0], &[1]).requires_grad_(false);
    let c = Tensor::from_vec(vec![1.0], &[1]).requires_grad_(true);
    let mut opt = Sgd::new(
        vec![
            ("a".into(), a.clone()),
            ("b".into(), b.clone()),
            ("c".into(), c.clone()),
        ],
        1.0,
    );
    *a.grad_mut() = Some(vec![1.0]);
    *b.grad_mut() = Some(vec![1.0]);
    opt.step();
    assert_eq!((a.item(), b.item(), c.item()), (0.0, 1.0, 1.0));
    opt.zero_grad();
    assert!(a.grad().is_none());
}

#[test]
fn optimizer_state_round_trips() {
    let p = Tensor::from_vec(vec![1.0, -2.0], &[2]).requires_grad_(true);
    let mut opt = Adam::new(vec![("w".into(), p.clone())], 0.1);
    *p.grad_mut() = Some(vec![0.5, -1.0]);
    opt.step();
    let state = opt.state();
    let names: Vec<&str> = state.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["w.exp_avg", "w.exp_avg_sq", "w.step"]);
    let map: HashMap<String, (Vec<usize>, Vec<f32>)> =
        state.into_iter().map(|(n, s, d)| (n, (s, d))).collect();
    let q = Tensor::from_vec(p.to_vec(), &[2]).requires_grad_(true);
    let mut opt2 = Adam::new(vec![("w".into(), q.clone())], 0.1);
    opt2.load_state(&map).unwrap();
    *p.grad_mut() = Some(vec![0.2, 0.3]);
    *q.grad_mut() = Some(vec![0.2, 0.3]);
    opt.step();
    opt2.step();
    assert_eq!(p.to_vec(), q.to_vec());
    let mut bad = map.clone();
    bad.remove("w.exp_avg");
    assert!(opt2
        .load_state(&bad)
        .unwrap_err()
        .to_string()
        .contains("w.exp_avg"));
}

#[test]
fn clipping_by_value_and_global_norm() {
    let a = Tensor::from_vec(vec![0.0, 0.0], &[2]).requires_grad_(true);
    let b = Tensor::from_vec(vec![0.0], &[1]).requires_grad_(true);
    *a.grad_mut() = Some(vec![3.0, 0.0]);
    *b.grad_mut() = Some(vec![-4.0]);
    let ps = [a.clone(), b.clone()];
    assert!((global_grad_norm(&ps) - 5.0).abs() < 1e-6);
    let before = clip_grad_norm(&ps, 1.0);
    assert!(
        (before - 5.0).abs() < 1e-6,
        "returns the norm before clipping"
    );
    let (ga, gb) = (a.grad().unwrap(), b.grad().unwrap());
    assert!((ga[0] - 0.6).abs() < 1e-5 && (gb[0] + 0.8).abs() < 1e-5);
    assert!((global_grad_norm(&ps) - 1.0).abs() < 1e-5);
    // Below the limit nothing changes.
    let n = clip_grad_norm(&ps, 10.0);
    assert!((n - 1.0).abs() < 1e-5 && (a.grad().unwrap()[0] - 0.6).abs() < 1e-5);
    *a.grad_mut() = Some(vec![3.0, -0.2]);
    clip_grad_value(&ps, 0.5);
    assert_eq!(a.grad().unwrap(), vec![0.5, -0.2]);
    assert!((b.grad().unwrap()[0] + 0.5).abs() < 1e-6);
}

#[test]
fn learning_rate_schedules() {
    let s = StepLr {
        step_size: 2,
        gamma: 0.5,
    };
    let v: Vec<f32> = (0..5).map(|t| s.lr(1.0, t)).collect();
    assert_eq!(v, [1.0, 1.0, 0.5, 0.5, 0.25]);
    let e = ExponentialLr { gamma: 0.9 };
    assert!((e.lr(2.0, 3) - 2.0 * 0.729).abs() < 1e-6);
    let c = CosineLr {
        t_max: 10,
        eta_min: 0.1,
    };
    assert!((c.lr(1.0, 0) - 1.0).abs() < 1e-6);
    assert!((c.lr(1.0, 5) - 0.55).abs() < 1e-6);
    assert!((c.lr(1.0, 10) - 0.1).abs() < 1e-6 && (c.lr(1.0, 20) - 0.1).abs() < 1e-6);
    let w = WarmUp::new(
        4,
        0.25,
        CosineLr {
            t_max: 10,
            eta_min: 0.0,
        },
    );
    let v: Vec<f32> = (0..5).map(|t| w.lr(1.0, t)).collect();
    assert_eq!(v[..4], [0.25, 0.4375, 0.625, 0.8125]);
    assert!((v[4] - 1.0).abs() < 1e-6);
    assert_eq!(Constant.lr(0.3, 100), 0.3);
}

#[test]
fn state_of_parameters_without_gradient_flushes_to_zero_not_subnormal() {
    let p = Tensor::from_vec(vec![1.0], &[1]).requires_grad_(true);
    let mut opt = Adam::new(vec![("w".into(), p.clone())], 0.1);
    *p.grad_mut() = Some(vec![1e-3]);
    opt.step();
    *p.grad_mut() = Some(vec![0.0]);
    for _ in 0..1000 {
        opt.step(); // m decays by 0.9 per step: subnormal after ~830 steps
    }
    let m = opt.state()[0].2[0];
    assert!(m == 0.0 || m.is_normal(), "exp_avg {m:e} is subnormal");
}

/// Trajectories recorded from PyTorch 2.15 (`torch.optim`, float32) for the
/// parameter `[1, -2]` and the gradients `G`, with the same settings.
const PYTORCH: &[(&str, [[f64; 2]; 3])] = &[
    (
        "sgd",
        [
            [9.499999881e-01, -1.899999976e+00],
            [9.300000072e-01, -1.929999948e+00],
            [9.700000286e-01, -1.939999938e+00],
        ],
    ),
    (
        "sgd_wd",
        [
            [9.399999976e-01, -1.879999995e+00],
            [9.106000066e-01, -1.891199946e+00],
            [9.414939880e-01, -1.882287979e+00],
        ],
    ),
    (
        "momentum",
        [
            [9.499999881e-01, -1.899999976e+00],
            [8.849999905e-01, -1.840000033e+00],
            [8.665000200e-01, -1.796000004e+00],
        ],
    ),
    (
        "momentum_damp",
        [
            [9.499999881e-01, -1.899999976e+00],
            [8.949999809e-01, -1.824999928e+00],
            [8.654999733e-01, -1.762499928e+00],
        ],
    ),
    (
        "nesterov",
        [
            [9.049999714e-01, -1.809999943e+00],
            [8.264999986e-01, -1.785999894e+00],
            [8.498499990e-01, -1.756399870e+00],
        ],
    ),
    (
        "adagrad",
        [
            [8.999999762e-01, -1.899999976e+00],
            [8.628609180e-01, -1.928734779e+00],
            [9.224894047e-01, -1.938269377e+00],
        ],
    ),
    (
        "rmsprop",
        [
            [9.000000358e-01, -1.899999976e+00],
            [8.626998663e-01, -1.928867459e+00],
            [9.226876497e-01, -1.938493490e+00],
        ],
    ),
    (
        "rmsprop_mc",
        [
            [8.994962573e-01, -1.899496198e+00],
            [8.116268516e-01, -1.878175616e+00],
            [8.277360201e-01, -1.877156615e+00],
        ],
    ),
    (
        "adadelta",
        [
            [9.968377948e-01, -1.996837735e+00],
            [9.951003790e-01, -1.998186111e+00],
            [9.980736375e-01, -1.998666763e+00],
        ],
    ),
    (
        "adam",
        [
            [9.000000358e-01, -1.899999976e+00],
            [8.101425171e-01, -1.857215166e+00],
            [7.925146222e-01, -1.830389977e+00],
        ],
    ),
    (
        "adam_wd",
        [
            [9.000000358e-01, -1.899999976e+00],
            [8.072814941e-01, -1.840070367e+00],
            [7.702772021e-01, -1.789409995e+00],
        ],
    ),
    (
        "adamw",
        [
            [8.990000486e-01, -1.898000002e+00],
            [8.082435131e-01, -1.853317261e+00],
            [7.898073792e-01, -1.824638724e+00],
        ],
    ),
];

#[test]
fn trajectories_match_pytorch() {
    type Make = fn(NamedParams) -> Box<dyn Optimizer>;
    let makers: &[(&str, Make)] = &[
        ("sgd", |p| Box::new(Sgd::new(p, 0.1))),
        ("sgd_wd", |p| Box::new(Sgd::new(p, 0.1).weight_decay(0.1))),
        ("momentum", |p| Box::new(Sgd::with_momentum(p, 0.1, 0.9))),
        ("momentum_damp", |p| {
            Box::new(Sgd::with_momentum(p, 0.1, 0.9).dampening(0.5))
        }),
        ("nesterov", |p| Box::new(Sgd::nesterov(p, 0.1, 0.9))),
        ("adagrad", |p| Box::new(Adagrad::new(p, 0.1))),
        ("rmsprop", |p| Box::new(RmsProp::new(p, 0.01))),
        ("rmsprop_mc", |p| {
            Box::new(RmsProp::new(p, 0.01).momentum(0.5).centered(true))
        }),
        ("adadelta", |p| Box::new(Adadelta::new(p))),
        ("adam", |p| Box::new(Adam::new(p, 0.1))),
        ("adam_wd", |p| Box::new(Adam::new(p, 0.1).weight_decay(0.1))),
        ("adamw", |p| Box::new(AdamW::new(p, 0.1))),
    ];
    for (name, make) in makers {
        let want = PYTORCH.iter().find(|(n, _)| n == name).unwrap().1;
        let got = run(make, &G);
        for (t, (g, w)) in got.iter().zip(&want).enumerate() {
            for k in 0..2 {
                assert!(
                    (g[k] as f64 - w[k]).abs() <= 2e-6 * (1.0 + w[k].abs()),
                    "{name} step {}: got {g:?}, PyTorch {w:?}",
                    t + 1
                );
            }
        }
    }
}
