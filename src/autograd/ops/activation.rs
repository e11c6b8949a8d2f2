//! Activations: sigmoid, tanh, relu, relu6, leaky_relu, prelu (learnable
//! slope), elu, softmax, log_softmax, and dropout.
//!
//! NOTE: at the kinks (relu at 0, relu6 at 0 and 6) the derivative taken is
//! that of the right-open piece, as PyTorch does (relu'(0) = 0).

use super::elementwise::{broadcast_map, broadcast_strides, walk2};
use super::reduce::norm_axis;
use crate::autograd::rng;
use crate::autograd::tensor::Tensor;

impl Tensor {
    /// Logistic sigmoid `1 / (1 + e^-x)`.
    pub fn sigmoid(&self) -> Tensor {
        self.unary(
            "sigmoid",
            |x| 1.0 / (1.0 + (-x).exp()),
            |_, y| y * (1.0 - y),
        )
    }

    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Tensor {
        self.unary("tanh", f32::tanh, |_, y| 1.0 - y * y)
    }

    /// `max(x, 0)`.
    pub fn relu(&self) -> Tensor {
        self.unary("relu", |x| x.max(0.0), |x, _| (x > 0.0) as u8 as f32)
    }

    /// `min(max(x, 0), 6)`.
    pub fn relu6(&self) -> Tensor {
        self.unary(
            "relu6",
            |x| x.clamp(0.0, 6.0),
            |x, _| (x > 0.0 && x < 6.0) as u8 as f32,
        )
    }

    /// `x` if positive, else `slope·x`.
    pub fn leaky_relu(&self, slope: f32) -> Tensor {
        self.unary(
            "leaky_relu",
            move |x| if x > 0.0 { x } else { slope * x },
            move |x, _| if x > 0.0 { 1.0 } else { slope },
        )
    }

    /// `x` if positive, else `alpha·(e^x − 1)`.
    pub fn elu(&self, alpha: f32) -> Tensor {
        self.unary(
            "elu",
            move |x| if x > 0.0 { x } else { alpha * (x.exp() - 1.0) },
            move |x, y| if x > 0.0 { 1.0 } else { y + alpha },
        )
    }

    /// Parametric ReLU with a learnable `slope` broadcast against the input
    /// (`[c]` for one slope per channel, channels-last, or `[1]`).
    pub fn prelu(&self, slope: &Tensor) -> Tensor {
        let (shape, data) = broadcast_map(
            &self.data(),
            self.shape(),
            &slope.data(),
            slope.shape(),
            |x, a| if x > 0.0 { x } else { a * x },
        );
        assert_eq!(
            shape,
            self.shape(),
            "prelu: slope {:?} does not broadcast to input {:?}",
            slope.shape(),
            self.shape()
        );
        let (x, a) = (self.clone(), slope.clone());
        Tensor::from_op(
            "prelu",
            shape.clone(),
            data,
            &[self, slope],
            move |g, _, needs| {
                let (xd, ad) = (x.data(), a.data());
                let sx = broadcast_strides(x.shape(), &shape);
                let sa = broadcast_strides(a.shape(), &shape);
                let mut gx = needs[0].then(|| vec![0.0; xd.len()]);
                let mut ga = needs[1].then(|| vec![0.0; ad.len()]);
                walk2(&shape, &sx, &sa, |i, ox, oa| {
                    let pos = xd[ox] > 0.0;
                    if let Some(gx) = gx.as_mut() {
                        gx[ox] += g[i] * if pos { 1.0 } else { ad[oa] };
                    }
                    if let Some(ga) = ga.as_mut() {
                        if !pos {
                            ga[oa] += g[i] * xd[ox];
                        }
                    }
                });
                vec![gx, ga]
            },
        )
    }

    /// Softmax along `axis` (max-subtracted, so it never overflows).
    pub fn softmax(&self, axis: isize) -> Tensor {
        let (outer, dim, inner) = self.axis_split(axis);
        let mut y = self.to_vec();
        for_each_lane(outer, dim, inner, |idx| {
            let m = idx.clone().map(|i| y[i]).fold(f32::NEG_INFINITY, f32::max);
            let mut s = 0.0;
            for i in idx.clone() {
                y[i] = (y[i] - m).exp();
                s += y[i];
            }
            idx.for_each(|i| y[i] /= s);
        });
        Tensor::from_op(
            "softmax",
            self.shape().to_vec(),
            y,
            &[self],
            move |g, y, _| {
                // dx = y ⊙ (g − Σ g⊙y)
                let mut gx = vec![0.0; g.len()];
                for_each_lane(outer, dim, inner, |idx| {
                    let dot: f32 = idx.clone().map(|i| g[i] * y[i]).sum();
                    idx.for_each(|i| gx[i] = y[i] * (g[i] - dot));
                });
                vec![Some(gx)]
            },
        )
    }

    /// Log-softmax along `axis`: `x − logΣexp(x)`, computed stably.
    pub fn log_softmax(&self, axis: isize) -> Tensor {
        let (outer, dim, inner) = self.axis_split(axis);
        let mut y = self.to_vec();
        for_each_lane(outer, dim, inner, |idx| {
            let m = idx.clone().map(|i| y[i]).fold(f32::NEG_INFINITY, f32::max);
            let lse = m + idx.clone().map(|i| (y[i] - m).exp()).sum::<f32>().ln();
            idx.for_each(|i| y[i] -= lse);
        });
        Tensor::from_op(
            "log_softmax",
            self.shape().to_vec(),
            y,
            &[self],
            move |g, y, _| {
                // dx = g − softmax ⊙ Σ g
                let mut gx = vec![0.0; g.len()];
                for_each_lane(outer, dim, inner, |idx| {
                    let s: f32 = idx.clone().map(|i| g[i]).sum();
                    idx.for_each(|i| gx[i] = g[i] - y[i].exp() * s);
                });
                vec![Some(gx)]
            },
        )
    }

    /// Inverted dropout: in training, zeroes each element with probability
    /// `p` (draws from the global RNG) and scales the rest by `1/(1−p)`, so
    /// evaluation (`training = false`) is the identity.
    pub fn dropout(&self, p: f32, training: bool) -> Tensor {
        assert!(
            (0.0..1.0).contains(&p),
            "dropout probability {p} not in [0, 1)"
        );
        if !training || p == 0.0 {
            return self.clone();
        }
        let scale = 1.0 / (1.0 - p);
        let mask: Vec<f32> = rng::with_rng(|r| {
            (0..self.numel())
                .map(|_| if r.uniform() < p { 0.0 } else { scale })
                .collect()
        });
        let data = self.data().iter().zip(&mask).map(|(x, m)| x * m).collect();
        Tensor::from_op(
            "dropout",
            self.shape().to_vec(),
            data,
            &[self],
            move |g, _, _| vec![Some(g.iter().zip(&mask).map(|(g, m)| g * m).collect())],
        )
    }

    /// `(outer, dim, inner)` around `axis`.
    pub(crate) fn axis_split(&self, axis: isize) -> (usize, usize, usize) {
        let s = self.shape();
        let ax = norm_axis(axis, s.len());
        (
            s[..ax].iter().product(),
            s[ax],
            s[ax + 1..].iter().product(),
        )
    }
}

/// Calls `f` with the flat indices of every lane along the split axis.
pub(crate) fn for_each_lane(
    outer: usize,
    dim: usize,
    inner: usize,
    mut f: impl FnMut(std::iter::StepBy<std::ops::Range<usize>>),
) {
    for o in 0..outer {
        for i in 0..inner {
            let base = o * dim * inner + i;
            f((base..base + dim * inner).step_by(inner));
        }
    }
}
