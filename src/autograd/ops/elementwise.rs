//! Elementwise ops with NumPy/PyTorch broadcasting: each forward, then its
//! backward right below. Broadcast gradients are summed back to the input's
//! shape by [`sum_to_shape`].

use crate::autograd::tensor::{contiguous_strides, Tensor};

// ---- broadcasting machinery ---------------------------------------------

/// The broadcast of two shapes (NumPy rules).
///
/// # Panics
/// If the shapes are not broadcast-compatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Vec<usize> {
    let r = a.len().max(b.len());
    (0..r)
        .map(|i| {
            let da = if i + a.len() >= r {
                a[i + a.len() - r]
            } else {
                1
            };
            let db = if i + b.len() >= r {
                b[i + b.len() - r]
            } else {
                1
            };
            match (da, db) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                _ => panic!("shapes {a:?} and {b:?} cannot be broadcast together"),
            }
        })
        .collect()
}

/// Strides of `shape` seen through `out` (rank of `out`): 0 where `shape`
/// is broadcast.
pub(crate) fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let s = contiguous_strides(shape);
    let off = out.len() - shape.len();
    (0..out.len())
        .map(|i| {
            if i < off || shape[i - off] == 1 {
                0
            } else {
                s[i - off]
            }
        })
        .collect()
}

/// Calls `f(i, a_off, b_off)` for every element `i` of `out` in row-major
/// order, with the offsets of the matching elements of two broadcast inputs.
#[inline]
pub(crate) fn walk2(
    out: &[usize],
    sa: &[usize],
    sb: &[usize],
    mut f: impl FnMut(usize, usize, usize),
) {
    let r = out.len();
    if r == 0 {
        f(0, 0, 0);
        return;
    }
    if out.contains(&0) {
        return;
    }
    let n_in = out[r - 1];
    let (ia, ib) = (sa[r - 1], sb[r - 1]);
    let mut idx = vec![0usize; r];
    let (mut oa, mut ob, mut i) = (0usize, 0usize, 0usize);
    loop {
        for j in 0..n_in {
            f(i, oa + j * ia, ob + j * ib);
            i += 1;
        }
        let mut d = r - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            oa += sa[d];
            ob += sb[d];
            if idx[d] < out[d] {
                break;
            }
            oa -= sa[d] * out[d];
            ob -= sb[d] * out[d];
            idx[d] = 0;
        }
    }
}

/// `f` over two broadcast inputs.
pub(crate) fn broadcast_map(
    a: &[f32],
    ashape: &[usize],
    b: &[f32],
    bshape: &[usize],
    f: impl Fn(f32, f32) -> f32,
) -> (Vec<usize>, Vec<f32>) {
    if ashape == bshape {
        let mut out = vec![0.0; a.len()];
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = f(x, y);
        }
        return (ashape.to_vec(), out);
    }
    let out = broadcast_shapes(ashape, bshape);
    if b.len() == 1 && a.len() == out.iter().product::<usize>() {
        let y = b[0];
        return (out, a.iter().map(|&x| f(x, y)).collect());
    }
    if a.len() == 1 && b.len() == out.iter().product::<usize>() {
        let x = a[0];
        return (out, b.iter().map(|&y| f(x, y)).collect());
    }
    let sa = broadcast_strides(ashape, &out);
    let sb = broadcast_strides(bshape, &out);
    let mut data = vec![0.0; out.iter().product()];
    walk2(&out, &sa, &sb, |i, oa, ob| data[i] = f(a[oa], b[ob]));
    (out, data)
}

/// Sums a gradient of shape `from` down to the broadcast input shape `to`.
pub fn sum_to_shape(g: Vec<f32>, from: &[usize], to: &[usize]) -> Vec<f32> {
    if from == to {
        return g;
    }
    let n: usize = to.iter().product();
    let mut res = vec![0.0; n];
    if n == 1 {
        res[0] = g.iter().sum();
        return res;
    }
    let st = broadcast_strides(to, from);
    let zero = vec![0; from.len()];
    walk2(from, &st, &zero, |i, ot, _| res[ot] += g[i]);
    res
}

/// Gradients of a broadcast binary op: `ga(i) = g[i]·da(a, b)`,
/// `gb(i) = g[i]·db(a, b)`, each summed back to its input's shape.
fn binary_backward(
    g: &[f32],
    a: &Tensor,
    b: &Tensor,
    out_shape: &[usize],
    needs: &[bool],
    da: impl Fn(f32, f32) -> f32,
    db: impl Fn(f32, f32) -> f32,
) -> Vec<Option<Vec<f32>>> {
    let (ad, bd) = (a.data(), b.data());
    let sa = broadcast_strides(a.shape(), out_shape);
    let sb = broadcast_strides(b.shape(), out_shape);
    let mut ga = needs[0].then(|| vec![0.0; ad.len()]);
    let mut gb = needs[1].then(|| vec![0.0; bd.len()]);
    walk2(out_shape, &sa, &sb, |i, oa, ob| {
        let (x, y) = (ad[oa], bd[ob]);
        if let Some(ga) = ga.as_mut() {
            ga[oa] += g[i] * da(x, y);
        }
        if let Some(gb) = gb.as_mut() {
            gb[ob] += g[i] * db(x, y);
        }
    });
    vec![ga, gb]
}

// ---- binary ops ----------------------------------------------------------

impl Tensor {
    /// `self + other`, broadcasting.
    pub fn add(&self, other: &Tensor) -> Tensor {
        let (shape, data) = broadcast_map(
            &self.data(),
            self.shape(),
            &other.data(),
            other.shape(),
            |x, y| x + y,
        );
        let (sa, sb, so) = (self.shape().to_vec(), other.shape().to_vec(), shape.clone());
        Tensor::from_op("add", shape, data, &[self, other], move |g, _, needs| {
            vec![
                needs[0].then(|| sum_to_shape(g.to_vec(), &so, &sa)),
                needs[1].then(|| sum_to_shape(g.to_vec(), &so, &sb)),
            ]
        })
    }

    /// `self - other`, broadcasting.
    pub fn sub(&self, other: &Tensor) -> Tensor {
        let (shape, data) = broadcast_map(
            &self.data(),
            self.shape(),
            &other.data(),
            other.shape(),
            |x, y| x - y,
        );
        let (sa, sb, so) = (self.shape().to_vec(), other.shape().to_vec(), shape.clone());
        Tensor::from_op("sub", shape, data, &[self, other], move |g, _, needs| {
            vec![
                needs[0].then(|| sum_to_shape(g.to_vec(), &so, &sa)),
                needs[1].then(|| sum_to_shape(g.iter().map(|v| -v).collect(), &so, &sb)),
            ]
        })
    }

    /// `self * other`, broadcasting.
    pub fn mul(&self, other: &Tensor) -> Tensor {
        let (shape, data) = broadcast_map(
            &self.data(),
            self.shape(),
            &other.data(),
            other.shape(),
            |x, y| x * y,
        );
        let (a, b, so) = (self.clone(), other.clone(), shape.clone());
        Tensor::from_op("mul", shape, data, &[self, other], move |g, _, needs| {
            binary_backward(g, &a, &b, &so, needs, |_, y| y, |x, _| x)
        })
    }

    /// `self / other`, broadcasting.
    pub fn div(&self, other: &Tensor) -> Tensor {
        let (shape, data) = broadcast_map(
            &self.data(),
            self.shape(),
            &other.data(),
            other.shape(),
            |x, y| x / y,
        );
        let (a, b, so) = (self.clone(), other.clone(), shape.clone());
        Tensor::from_op("div", shape, data, &[self, other], move |g, _, needs| {
            binary_backward(g, &a, &b, &so, needs, |_, y| 1.0 / y, |x, y| -x / (y * y))
        })
    }

    /// `min(self, other)` elementwise; the gradient goes to `self` on ties.
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        let (shape, data) = broadcast_map(
            &self.data(),
            self.shape(),
            &other.data(),
            other.shape(),
            f32::min,
        );
        let (a, b, so) = (self.clone(), other.clone(), shape.clone());
        Tensor::from_op(
            "minimum",
            shape,
            data,
            &[self, other],
            move |g, _, needs| {
                binary_backward(
                    g,
                    &a,
                    &b,
                    &so,
                    needs,
                    |x, y| (x <= y) as u8 as f32,
                    |x, y| (y < x) as u8 as f32,
                )
            },
        )
    }

    /// `max(self, other)` elementwise; the gradient goes to `self` on ties.
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        let (shape, data) = broadcast_map(
            &self.data(),
            self.shape(),
            &other.data(),
            other.shape(),
            f32::max,
        );
        let (a, b, so) = (self.clone(), other.clone(), shape.clone());
        Tensor::from_op(
            "maximum",
            shape,
            data,
            &[self, other],
            move |g, _, needs| {
                binary_backward(
                    g,
                    &a,
                    &b,
                    &so,
                    needs,
                    |x, y| (x >= y) as u8 as f32,
                    |x, y| (y > x) as u8 as f32,
                )
            },
        )
    }

    /// `mask ? self : other` elementwise (`mask` nonzero selects `self`);
    /// the three shapes broadcast together. No gradient flows to `mask`.
    pub fn where_(&self, mask: &Tensor, other: &Tensor) -> Tensor {
        let shape = broadcast_shapes(&broadcast_shapes(mask.shape(), self.shape()), other.shape());
        let m = mask.expand_data(&shape);
        let a = self.expand_data(&shape);
        let b = other.expand_data(&shape);
        let data = m
            .iter()
            .zip(a.iter().zip(&b))
            .map(|(&m, (&x, &y))| if m != 0.0 { x } else { y })
            .collect();
        let (sa, sb, so) = (self.shape().to_vec(), other.shape().to_vec(), shape.clone());
        Tensor::from_op("where", shape, data, &[self, other], move |g, _, needs| {
            let ga = needs[0].then(|| {
                let v = g
                    .iter()
                    .zip(&m)
                    .map(|(&g, &m)| if m != 0.0 { g } else { 0.0 })
                    .collect();
                sum_to_shape(v, &so, &sa)
            });
            let gb = needs[1].then(|| {
                let v = g
                    .iter()
                    .zip(&m)
                    .map(|(&g, &m)| if m != 0.0 { 0.0 } else { g })
                    .collect();
                sum_to_shape(v, &so, &sb)
            });
            vec![ga, gb]
        })
    }

    /// Replaces elements where `mask` (broadcast to this shape) is nonzero
    /// with `value`; their gradient is zero.
    pub fn masked_fill(&self, mask: &Tensor, value: f32) -> Tensor {
        self.where_(
            &mask.map_nograd(|m| (m == 0.0) as u8 as f32),
            &Tensor::scalar(value),
        )
    }

    /// This tensor's data broadcast to `shape` (no graph).
    pub(crate) fn expand_data(&self, shape: &[usize]) -> Vec<f32> {
        let d = self.data();
        if self.shape() == shape {
            return d.clone();
        }
        let zero = vec![0; shape.len()];
        let _ = broadcast_shapes(self.shape(), shape);
        let s = broadcast_strides(self.shape(), shape);
        let mut out = vec![0.0; shape.iter().product()];
        walk2(shape, &s, &zero, |i, o, _| out[i] = d[o]);
        out
    }

    /// `f` applied to every element, outside the graph.
    pub fn map_nograd(&self, f: impl Fn(f32) -> f32) -> Tensor {
        Tensor::from_vec(self.data().iter().map(|&x| f(x)).collect(), self.shape())
    }

    // ---- scalar ops ----------------------------------------------------

    /// `self + c`.
    pub fn add_scalar(&self, c: f32) -> Tensor {
        self.unary("add_scalar", |x| x + c, |_, _| 1.0)
    }

    /// `self * c`.
    pub fn mul_scalar(&self, c: f32) -> Tensor {
        self.unary("mul_scalar", |x| x * c, move |_, _| c)
    }

    /// `self / c`.
    pub fn div_scalar(&self, c: f32) -> Tensor {
        self.mul_scalar(1.0 / c)
    }

    // ---- unary ops -----------------------------------------------------

    /// An elementwise op `y = f(x)` whose derivative is `df(x, y)`.
    pub fn unary(
        &self,
        name: &'static str,
        f: impl Fn(f32) -> f32,
        df: impl Fn(f32, f32) -> f32 + Send + Sync + 'static,
    ) -> Tensor {
        let data = self.data().iter().map(|&x| f(x)).collect::<Vec<f32>>();
        let x = self.clone();
        Tensor::from_op(
            name,
            self.shape().to_vec(),
            data,
            &[self],
            move |g, y, _| {
                let xd = x.data();
                let mut gx = vec![0.0; g.len()];
                for ((o, &g), (&x, &y)) in gx.iter_mut().zip(g).zip(xd.iter().zip(y)) {
                    *o = g * df(x, y);
                }
                vec![Some(gx)]
            },
        )
    }

    /// `-self`.
    pub fn neg(&self) -> Tensor {
        self.unary("neg", |x| -x, |_, _| -1.0)
    }

    /// `self^p` for a constant exponent.
    pub fn pow(&self, p: f32) -> Tensor {
        if p == 2.0 {
            return self.unary("pow", |x| x * x, |x, _| 2.0 * x);
        }
        self.unary("pow", move |x| x.powf(p), move |x, _| p * x.powf(p - 1.0))
    }

    /// `e^self`.
    pub fn exp(&self) -> Tensor {
        self.unary("exp", f32::exp, |_, y| y)
    }

    /// Natural logarithm.
    pub fn log(&self) -> Tensor {
        self.unary("log", f32::ln, |x, _| 1.0 / x)
    }

    /// Square root.
    pub fn sqrt(&self) -> Tensor {
        self.unary("sqrt", f32::sqrt, |_, y| 0.5 / y)
    }

    /// Absolute value (gradient `sign(x)`, 0 at 0).
    pub fn abs(&self) -> Tensor {
        self.unary("abs", f32::abs, |x, _| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        })
    }

    /// Clamps into `[lo, hi]` (gradient 1 inside, 0 outside).
    pub fn clamp(&self, lo: f32, hi: f32) -> Tensor {
        self.unary(
            "clamp",
            move |x| x.clamp(lo, hi),
            move |x, _| (x >= lo && x <= hi) as u8 as f32,
        )
    }
}

// ---- operators: `&a + &b`, `&a * 2.0`, `-&a` ------------------------------

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $scalar:expr) => {
        impl std::ops::$trait<&Tensor> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(self, rhs)
            }
        }
        impl std::ops::$trait<f32> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f32) -> Tensor {
                let f: fn(&Tensor, f32) -> Tensor = $scalar;
                f(self, rhs)
            }
        }
    };
}

binary_operator!(Add, add, |t, c| t.add_scalar(c));
binary_operator!(Sub, sub, |t, c| t.add_scalar(-c));
binary_operator!(Mul, mul, |t, c| t.mul_scalar(c));
binary_operator!(Div, div, |t, c| t.div_scalar(c));

impl std::ops::Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}
