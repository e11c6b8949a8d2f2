//! Every differentiable op's gradient against central finite differences
//! (`autograd::gradcheck`), on random shapes including broadcasting cases.
#![cfg(feature = "std")]
#![allow(clippy::cloned_ref_to_slice_refs)]

use edgegrad::autograd::{gradcheck, no_grad, Conv2dParams, Pool2dParams, Rng, Tensor};

/// Uniform values in `[lo, hi)`, requiring a gradient.
fn rand(rng: &mut Rng, shape: &[usize], lo: f32, hi: f32) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec(
        (0..n).map(|_| lo + (hi - lo) * rng.uniform()).collect(),
        shape,
    )
    .requires_grad_(true)
}

/// Values in ±[0.1, 1.1) (away from 0, for kinks at 0).
fn away0(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n = shape.iter().product();
    let v = (0..n).map(|_| {
        let m = 0.1 + rng.uniform();
        if rng.uniform() < 0.5 {
            -m
        } else {
            m
        }
    });
    Tensor::from_vec(v.collect(), shape).requires_grad_(true)
}

/// Distinct values 0.1 apart in random order (no ties for max/min).
fn distinct(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let mut v: Vec<f32> = (0..n).map(|i| i as f32 * 0.1 - n as f32 * 0.05).collect();
    rng.shuffle(&mut v);
    Tensor::from_vec(v, shape).requires_grad_(true)
}

fn random_shape(rng: &mut Rng, rank: usize) -> Vec<usize> {
    (0..rank).map(|_| 1 + rng.below(4)).collect()
}

fn check(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
    if let Err(e) = gradcheck(f, inputs) {
        panic!("gradcheck failed: {e}");
    }
}

/// Broadcast pairs: same shape, trailing vector, inner 1s, leading dims, scalar.
fn broadcast_pairs(rng: &mut Rng) -> Vec<(Vec<usize>, Vec<usize>)> {
    let s = random_shape(rng, 3);
    vec![
        (s.clone(), s.clone()),
        (vec![2, 3], vec![3]),
        (vec![2, 1, 4], vec![3, 1]),
        (vec![4], vec![2, 4]),
        (vec![2, 3], vec![]),
        (vec![], vec![3, 2]),
        (vec![3, 1, 2], vec![1, 4, 1]),
    ]
}

#[test]
fn binary_ops_broadcasting() {
    let mut rng = Rng::seed_from(1);
    for (sa, sb) in broadcast_pairs(&mut rng) {
        let a = rand(&mut rng, &sa, -1.0, 1.0);
        let b = rand(&mut rng, &sb, -1.0, 1.0);
        check(|t| t[0].add(&t[1]), &[a.clone(), b.clone()]);
        check(|t| t[0].sub(&t[1]), &[a.clone(), b.clone()]);
        check(|t| t[0].mul(&t[1]), &[a.clone(), b.clone()]);
        let d = rand(&mut rng, &sb, 0.5, 1.5);
        check(|t| t[0].div(&t[1]), &[a.clone(), d]);
        let b2 = distinct(&mut rng, &sb);
        let a2 = distinct(&mut rng, &sa)
            .mul_scalar(1.03)
            .add_scalar(0.017)
            .detach()
            .requires_grad_(true);
        check(|t| t[0].minimum(&t[1]), &[a2.clone(), b2.clone()]);
        check(|t| t[0].maximum(&t[1]), &[a2, b2]);
    }
}

#[test]
fn broadcast_shapes_of_results() {
    let a = Tensor::zeros(&[2, 1, 4]);
    let b = Tensor::zeros(&[3, 1]);
    assert_eq!(a.add(&b).shape(), [2, 3, 4]);
}

#[test]
#[should_panic(expected = "cannot be broadcast")]
fn incompatible_broadcast_panics_with_shapes() {
    let _ = Tensor::zeros(&[2, 3]).add(&Tensor::zeros(&[4]));
}

#[test]
fn where_and_masked_fill() {
    let mut rng = Rng::seed_from(2);
    let a = rand(&mut rng, &[3, 4], -1.0, 1.0);
    let b = rand(&mut rng, &[4], -1.0, 1.0);
    let mask = Tensor::from_vec(
        (0..12).map(|i| (i % 3 == 0) as u8 as f32).collect(),
        &[3, 4],
    );
    check(|t| t[0].where_(&mask, &t[1]), &[a.clone(), b]);
    check(|t| t[0].masked_fill(&mask, 7.0), &[a]);
}

#[test]
fn unary_ops() {
    let mut rng = Rng::seed_from(3);
    for rank in 0..4 {
        let s = random_shape(&mut rng, rank);
        let x = rand(&mut rng, &s, -1.0, 1.0);
        let pos = rand(&mut rng, &s, 0.5, 2.0);
        let nz = away0(&mut rng, &s);
        check(|t| t[0].neg(), &[x.clone()]);
        check(|t| t[0].exp(), &[x.clone()]);
        check(|t| t[0].log(), &[pos.clone()]);
        check(|t| t[0].sqrt(), &[pos.clone()]);
        check(|t| t[0].pow(2.0), &[x.clone()]);
        check(|t| t[0].pow(3.0), &[x.clone()]);
        check(|t| t[0].pow(-1.5), &[pos.clone()]);
        check(|t| t[0].abs(), &[nz.clone()]);
        check(|t| t[0].clamp(-0.05, 0.05), &[nz.clone()]);
        check(
            |t| t[0].add_scalar(2.0).mul_scalar(-3.0).div_scalar(4.0),
            &[x.clone()],
        );
        check(|t| t[0].sigmoid(), &[x.clone()]);
        check(|t| t[0].tanh(), &[x.clone()]);
        check(|t| t[0].relu(), &[nz.clone()]);
        check(
            |t| t[0].mul_scalar(4.0).relu6(),
            &[nz.clone().add_scalar(0.5).detach().requires_grad_(true)],
        );
        check(|t| t[0].leaky_relu(0.1), &[nz.clone()]);
        check(|t| t[0].elu(1.3), &[nz.clone()]);
    }
}

#[test]
fn prelu_learns_its_slope() {
    let mut rng = Rng::seed_from(4);
    let x = away0(&mut rng, &[2, 3, 3, 4]);
    let a = rand(&mut rng, &[4], 0.1, 0.4);
    check(|t| t[0].prelu(&t[1]), &[x.clone(), a]);
    let a1 = rand(&mut rng, &[1], 0.1, 0.4);
    check(|t| t[0].prelu(&t[1]), &[x, a1]);
}

#[test]
fn softmax_and_log_softmax() {
    let mut rng = Rng::seed_from(5);
    let x = rand(&mut rng, &[3, 4, 5], -2.0, 2.0);
    for axis in [-1, 0, 1] {
        check(|t| t[0].softmax(axis), &[x.clone()]);
        check(|t| t[0].log_softmax(axis), &[x.clone()]);
    }
    // Stable for huge logits.
    let big = Tensor::from_vec(vec![1000.0, 1001.0, 999.0], &[1, 3]);
    let s = big.softmax(-1).to_vec();
    assert!(s.iter().all(|v| v.is_finite()));
    assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    assert!(big.log_softmax(-1).to_vec().iter().all(|v| v.is_finite()));
}

#[test]
fn matmul_and_linear() {
    let mut rng = Rng::seed_from(6);
    let (m, k, n) = (1 + rng.below(4), 1 + rng.below(5), 1 + rng.below(4));
    let a = rand(&mut rng, &[m, k], -1.0, 1.0);
    let b = rand(&mut rng, &[k, n], -1.0, 1.0);
    check(|t| t[0].matmul(&t[1]), &[a.clone(), b.clone()]);
    let ab = rand(&mut rng, &[2, m, k], -1.0, 1.0);
    let bb = rand(&mut rng, &[2, k, n], -1.0, 1.0);
    check(|t| t[0].matmul(&t[1]), &[ab.clone(), bb.clone()]); // batched
    check(|t| t[0].matmul(&t[1]), &[ab.clone(), b.clone()]); // shared right side
    check(|t| t[0].matmul(&t[1]), &[a.clone(), bb.clone()]); // shared left side
    let x = rand(&mut rng, &[3, 2, k], -1.0, 1.0);
    let w = rand(&mut rng, &[n, k], -1.0, 1.0);
    let bias = rand(&mut rng, &[n], -1.0, 1.0);
    check(
        |t| t[0].linear(&t[1], Some(&t[2])),
        &[x.clone(), w.clone(), bias],
    );
    check(|t| t[0].linear(&t[1], None), &[x, w]);
    // Value check.
    let p = Tensor::from_vec(vec![1., 2., 3., 4.], &[2, 2])
        .matmul(&Tensor::from_vec(vec![5., 6., 7., 8.], &[2, 2]));
    assert_eq!(p.to_vec(), vec![19., 22., 43., 50.]);
}

#[test]
fn reductions() {
    let mut rng = Rng::seed_from(7);
    let x = distinct(&mut rng, &[2, 3, 4]);
    for keep in [false, true] {
        for axes in [vec![0isize], vec![1], vec![-1], vec![0, 2], vec![0, 1, 2]] {
            check(|t| t[0].sum(&axes, keep), &[x.clone()]);
            check(|t| t[0].mean(&axes, keep), &[x.clone()]);
            check(|t| t[0].max(&axes, keep), &[x.clone()]);
            check(|t| t[0].min(&axes, keep), &[x.clone()]);
        }
    }
    check(|t| t[0].sum_all(), &[x.clone()]);
    check(|t| t[0].mean_all(), &[x.clone()]);
    assert_eq!(x.sum(&[1], true).shape(), [2, 1, 4]);
    assert_eq!(x.sum(&[1], false).shape(), [2, 4]);
    let y = Tensor::from_vec(vec![1., 5., 2., 7., 0., 7.], &[2, 3]);
    assert_eq!(y.argmax(-1), vec![1, 0]);
    assert_eq!(y.argmax(0), vec![1, 0, 1]);
    assert_eq!(y.max(&[1], false).to_vec(), vec![5., 7.]);
}

#[test]
fn movement_ops() {
    let mut rng = Rng::seed_from(8);
    let x = rand(&mut rng, &[2, 3, 4], -1.0, 1.0);
    check(|t| t[0].reshape(&[6, 4]), &[x.clone()]);
    check(|t| t[0].reshape(&[4, usize::MAX]), &[x.clone()]);
    check(|t| t[0].view(&[24]).mul_scalar(2.0), &[x.clone()]);
    check(|t| t[0].flatten(1), &[x.clone()]);
    check(|t| t[0].permute(&[2, 0, 1]), &[x.clone()]);
    check(|t| t[0].transpose(0, -1), &[x.clone()]);
    check(|t| t[0].unsqueeze(1).squeeze(1), &[x.clone()]);
    check(|t| t[0].unsqueeze(3), &[x.clone()]);
    let e = rand(&mut rng, &[3, 1], -1.0, 1.0);
    check(|t| t[0].expand(&[2, 3, 4]), &[e.clone()]);
    check(|t| t[0].broadcast_to(&[3, 5]), &[e]);
    let y = rand(&mut rng, &[2, 1, 4], -1.0, 1.0);
    check(
        |t| Tensor::concat(&[&t[0], &t[1]], 1),
        &[x.clone(), y.clone()],
    );
    check(|t| Tensor::concat(&[&t[0], &t[0]], -1), &[x.clone()]);
    let z = rand(&mut rng, &[2, 3, 4], -1.0, 1.0);
    for axis in 0..4 {
        check(
            |t| Tensor::stack(&[&t[0], &t[1]], axis),
            &[x.clone(), z.clone()],
        );
    }
    check(|t| t[0].split(&[1, 2], 1)[1].clone(), &[x.clone()]);
    check(
        |t| {
            let p = t[0].split(&[3, 1], -1);
            p[0].sum(&[2], true).mul(&p[1])
        },
        &[x.clone()],
    );
    check(|t| t[0].slice(2, 1, 3), &[x.clone()]);
    check(|t| t[0].index_select(1, &[2, 0, 2]), &[x.clone()]);
    let idx: Vec<usize> = (0..2 * 3 * 2).map(|i| (i * 7) % 4).collect();
    check(|t| t[0].gather(2, &idx, &[2, 3, 2]), &[x.clone()]);
    check(|t| t[0].pad(&[(0, 1), (2, 0), (1, 1)], 0.5), &[x.clone()]);
    assert_eq!(x.split(&[1, 2], 1)[1].shape(), [2, 2, 4]);
    assert_eq!(x.pad(&[(0, 1), (2, 0), (1, 1)], 0.0).shape(), [3, 5, 6]);
    let t = Tensor::from_vec(vec![1., 2., 3., 4., 5., 6.], &[2, 3]);
    assert_eq!(t.transpose(0, 1).to_vec(), vec![1., 4., 2., 5., 3., 6.]);
    assert_eq!(t.gather(1, &[2, 0], &[2, 1]).to_vec(), vec![3., 4.]);
}

#[test]
fn conv2d_all_options() {
    let mut rng = Rng::seed_from(9);
    type Case = (usize, usize, usize, usize, usize, usize, Conv2dParams);
    let p = |s: usize, pad: [[usize; 2]; 2], d: usize, g: usize| Conv2dParams {
        stride: [s, s],
        padding: pad,
        dilation: [d, d],
        groups: g,
    };
    let cases: Vec<Case> = vec![
        // (n, h, w, c, out, k, params)
        (2, 5, 5, 3, 4, 3, p(1, [[1, 1], [1, 1]], 1, 1)),
        (1, 6, 5, 2, 3, 3, p(2, [[0, 1], [1, 0]], 1, 1)),
        (2, 7, 7, 2, 2, 3, p(1, [[2, 2], [2, 2]], 2, 1)),
        (1, 4, 4, 4, 6, 3, p(1, [[1, 1], [1, 1]], 1, 2)),
        (2, 5, 4, 3, 3, 3, p(1, [[1, 1], [1, 1]], 1, 3)), // depthwise
        (2, 4, 4, 3, 6, 3, p(2, [[1, 1], [1, 1]], 1, 3)), // depthwise ×2
        (2, 3, 3, 4, 5, 1, p(1, [[0, 0], [0, 0]], 1, 1)), // pointwise
        (1, 2, 3, 2, 3, 5, p(1, [[2, 2], [2, 2]], 1, 1)), // kernel wider than the input
        (2, 4, 5, 1, 2, 3, p(3, [[0, 2], [2, 0]], 1, 1)), // one channel, stride 3
    ];
    for (n, h, w, c, o, k, prm) in cases {
        let x = rand(&mut rng, &[n, h, w, c], -1.0, 1.0);
        let wt = rand(&mut rng, &[o, k, k, c / prm.groups], -1.0, 1.0);
        let b = rand(&mut rng, &[o], -1.0, 1.0);
        check(
            |t| t[0].conv2d(&t[1], Some(&t[2]), prm),
            &[x.clone(), wt.clone(), b],
        );
        check(|t| t[0].conv2d(&t[1], None, prm), &[x, wt]);
    }
    // A large batch takes the parallel path: same values as one image at a time.
    let x = rand(&mut rng, &[20, 8, 8, 4], -1.0, 1.0);
    let wt = rand(&mut rng, &[16, 3, 3, 4], -1.0, 1.0);
    let prm = p(1, [[1, 1], [1, 1]], 1, 1);
    let all = x.conv2d(&wt, None, prm).to_vec();
    let one = x.slice(0, 7, 8).conv2d(&wt, None, prm).to_vec();
    assert_eq!(&all[7 * 8 * 8 * 16..8 * 8 * 8 * 16], &one[..]);
    check(
        |t| t[0].conv2d(&t[1], None, prm).sum_all(),
        &[x.slice(0, 0, 12).detach().requires_grad_(true), wt.clone()],
    );
}

#[test]
fn conv2d_matches_direct_formula() {
    // out[n, y, x, o] = Σ w[o, ky, kx, c] · in[n, y+ky−1, x+kx−1, c]
    let mut rng = Rng::seed_from(10);
    let x = rand(&mut rng, &[1, 4, 5, 2], -1.0, 1.0);
    let w = rand(&mut rng, &[3, 3, 3, 2], -1.0, 1.0);
    let prm = Conv2dParams {
        padding: [[1, 1], [1, 1]],
        ..Default::default()
    };
    let y = x.conv2d(&w, None, prm);
    let (xd, wd, yd) = (x.to_vec(), w.to_vec(), y.to_vec());
    for oy in 0..4 {
        for ox in 0..5 {
            for o in 0..3 {
                let mut s = 0.0;
                for ky in 0..3 {
                    for kx in 0..3 {
                        let (iy, ix) =
                            (oy as isize + ky as isize - 1, ox as isize + kx as isize - 1);
                        if !(0..4).contains(&iy) || !(0..5).contains(&ix) {
                            continue;
                        }
                        for c in 0..2 {
                            s += wd[((o * 3 + ky) * 3 + kx) * 2 + c]
                                * xd[((iy as usize) * 5 + ix as usize) * 2 + c];
                        }
                    }
                }
                assert!((yd[(oy * 5 + ox) * 3 + o] - s).abs() < 1e-5);
            }
        }
    }
}

#[test]
fn conv1d_options() {
    let mut rng = Rng::seed_from(11);
    let x = rand(&mut rng, &[2, 9, 4], -1.0, 1.0);
    let w = rand(&mut rng, &[6, 3, 2], -1.0, 1.0);
    let b = rand(&mut rng, &[6], -1.0, 1.0);
    check(
        |t| t[0].conv1d(&t[1], Some(&t[2]), 2, [1, 1], 1, 2),
        &[x.clone(), w, b],
    );
    let w1 = rand(&mut rng, &[3, 2, 4], -1.0, 1.0);
    check(|t| t[0].conv1d(&t[1], None, 1, [0, 0], 3, 1), &[x, w1]);
}

#[test]
fn pooling() {
    let mut rng = Rng::seed_from(12);
    let x = distinct(&mut rng, &[2, 5, 6, 3]);
    let square = Pool2dParams::square(2);
    let padded = Pool2dParams {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [[1, 1], [1, 1]],
    };
    for p in [square, padded] {
        check(|t| t[0].max_pool2d(p), &[x.clone()]);
        check(|t| t[0].avg_pool2d(p), &[x.clone()]);
    }
    check(|t| t[0].global_avg_pool(), &[x.clone()]);
    let s = distinct(&mut rng, &[2, 7, 3]);
    check(|t| t[0].max_pool1d(2, 2, [0, 0]), &[s.clone()]);
    check(|t| t[0].avg_pool1d(3, 2, [1, 1]), &[s.clone()]);
    check(|t| t[0].global_avg_pool(), &[s]);
    // Values: avg over in-bounds elements only.
    let v = Tensor::from_vec(vec![1., 2., 3., 4.], &[1, 2, 2, 1]);
    assert_eq!(v.max_pool2d(square).to_vec(), vec![4.0]);
    let pad = Pool2dParams {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [[1, 1], [1, 1]],
    };
    assert_eq!(v.avg_pool2d(pad).to_vec(), vec![1., 2., 3., 4.]);
}

#[test]
fn composite_expression() {
    let mut rng = Rng::seed_from(13);
    let x = rand(&mut rng, &[4, 3], -1.0, 1.0);
    let w = rand(&mut rng, &[3, 5], -1.0, 1.0);
    let b = rand(&mut rng, &[5], -1.0, 1.0);
    check(
        |t| {
            t[0].matmul(&t[1])
                .add(&t[2])
                .tanh()
                .log_softmax(-1)
                .mean_all()
        },
        &[x, w, b],
    );
}

#[test]
fn gradients_accumulate_until_zeroed() {
    let x = Tensor::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    let y = x.mul_scalar(3.0).sum_all();
    y.backward();
    y.backward();
    assert_eq!(x.grad().unwrap(), vec![6.0, 6.0]);
    x.mul(&x).sum_all().backward();
    assert_eq!(x.grad().unwrap(), vec![8.0, 10.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
}

#[test]
fn backward_from_non_scalar_with_upstream_gradient() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]).requires_grad_(true);
    let y = x.mul(&x);
    y.backward_with(&Tensor::from_vec(vec![1.0, 0.5, -1.0], &[3]));
    assert_eq!(x.grad().unwrap(), vec![2.0, 2.0, -6.0]);
}

#[test]
fn no_grad_and_detach_cut_the_graph() {
    let x = Tensor::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    let y = no_grad(|| x.mul_scalar(2.0));
    assert!(!y.requires_grad() && y.is_leaf());
    let d = x.detach();
    assert!(!d.requires_grad());
    let z = x.mul(&d).sum_all(); // d is a constant
    z.backward();
    assert_eq!(x.grad().unwrap(), vec![1.0, 2.0]);
    assert!(d.grad().is_none());
}

#[test]
fn shared_subexpression_gets_summed_gradient() {
    let x = Tensor::from_vec(vec![3.0], &[1]).requires_grad_(true);
    let y = x.mul_scalar(2.0);
    let z = y.mul(&y).add(&y).sum_all(); // 4x² + 2x → 8x + 2 = 26
    z.backward();
    assert_eq!(x.grad().unwrap(), vec![26.0]);
}

#[test]
fn deep_chain_does_not_overflow_the_stack() {
    let x = Tensor::from_vec(vec![1.0], &[1]).requires_grad_(true);
    let mut y = x.clone();
    for _ in 0..20_000 {
        y = y.add_scalar(0.0);
    }
    y.sum_all().backward();
    assert_eq!(x.grad().unwrap(), vec![1.0]);
}

#[test]
fn operators() {
    let a = Tensor::from_vec(vec![1.0, 2.0], &[2]).requires_grad_(true);
    let b = Tensor::from_vec(vec![3.0, 4.0], &[2]);
    let y = &(&(&(&a * &b) + &a) - 1.0) / 2.0;
    assert_eq!(y.to_vec(), vec![1.5, 4.5]);
    (-&y).sum_all().backward();
    assert_eq!(a.grad().unwrap(), vec![-2.0, -2.5]);
}

#[test]
fn depthwise_matches_direct_formula_and_batches_consistently() {
    // out[n, y, x, c·m + j] = Σ w[c·m + j, ky, kx, 0] · in[n, y·s + ky − 1, x·s + kx − 1, c]
    let mut rng = Rng::seed_from(14);
    let (c, m, s) = (3, 2, 2);
    let x = rand(&mut rng, &[24, 5, 6, c], -1.0, 1.0);
    let w = rand(&mut rng, &[c * m, 3, 3, 1], -1.0, 1.0);
    let b = rand(&mut rng, &[c * m], -1.0, 1.0);
    let prm = Conv2dParams {
        stride: [s, s],
        padding: [[1, 1], [1, 1]],
        groups: c,
        ..Default::default()
    };
    let y = x.conv2d(&w, Some(&b), prm);
    assert_eq!(y.shape(), [24, 3, 3, c * m]);
    let (xd, wd, bd, yd) = (x.to_vec(), w.to_vec(), b.to_vec(), y.to_vec());
    for n in [0, 13, 23] {
        for oy in 0..3 {
            for ox in 0..3 {
                for oc in 0..c * m {
                    let mut acc = bd[oc];
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let (iy, ix) = ((oy * s + ky) as isize - 1, (ox * s + kx) as isize - 1);
                            if (0..5).contains(&iy) && (0..6).contains(&ix) {
                                acc += wd[(oc * 3 + ky) * 3 + kx]
                                    * xd[((n * 5 + iy as usize) * 6 + ix as usize) * c + oc / m];
                            }
                        }
                    }
                    let got = yd[((n * 3 + oy) * 3 + ox) * c * m + oc];
                    assert!(
                        (got - acc).abs() < 1e-5,
                        "n {n} ({oy},{ox}) ch {oc}: {got} vs {acc}"
                    );
                }
            }
        }
    }
    check(
        |t| t[0].conv2d(&t[1], None, prm).sum_all(),
        &[x.slice(0, 0, 10).detach().requires_grad_(true), w.clone()],
    );
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut rng = Rng::seed_from(15);
    let x = rand(&mut rng, &[40, 8, 8, 8], -1.0, 1.0);
    let w = rand(&mut rng, &[16, 3, 3, 8], -1.0, 1.0);
    let dw = rand(&mut rng, &[8, 3, 3, 1], -1.0, 1.0);
    let run = |threads: usize| -> Vec<u32> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            for t in [&x, &w, &dw] {
                t.zero_grad();
            }
            let p = Conv2dParams {
                padding: [[1, 1], [1, 1]],
                ..Default::default()
            };
            let pd = Conv2dParams { groups: 8, ..p };
            let y = x
                .conv2d(&w, None, p)
                .sum_all()
                .add(&x.conv2d(&dw, None, pd).sum_all());
            y.backward();
            [x.grad().unwrap(), w.grad().unwrap(), dw.grad().unwrap()]
                .concat()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        })
    };
    assert_eq!(run(1), run(3));
}
