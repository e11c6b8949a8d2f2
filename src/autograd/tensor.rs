//! The host [`Tensor`]: f32 data, a shape, an optional gradient and the node
//! of the graph that produced it.
//!
//! Storage is always contiguous and row-major; [`Tensor::strides`] reports the
//! strides of that layout. Movement ops (`transpose`, `permute`, `expand`, …)
//! materialise a new contiguous tensor rather than a strided view: at
//! microcontroller sizes the copy is cheaper than teaching every kernel about
//! arbitrary strides, and every kernel can then assume unit inner stride.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::rng;
use super::tape;

/// A backward function: given the gradient of the output, the output's data
/// and which parents need a gradient, returns one gradient per parent (each
/// with that parent's shape), `None` where not needed.
pub(crate) type BackwardFn =
    Box<dyn Fn(&[f32], &[f32], &[bool]) -> Vec<Option<Vec<f32>>> + Send + Sync>;

/// The record of the op that produced a tensor.
pub(crate) struct Node {
    pub(crate) name: &'static str,
    pub(crate) parents: Vec<Tensor>,
    pub(crate) backward: BackwardFn,
}

pub(crate) struct Inner {
    pub(crate) id: usize,
    pub(crate) shape: Vec<usize>,
    pub(crate) data: RwLock<Vec<f32>>,
    pub(crate) grad: Mutex<Option<Vec<f32>>>,
    pub(crate) requires_grad: AtomicBool,
    pub(crate) node: Option<Node>,
}

/// Drops a graph iteratively: a long chain of ops would otherwise overflow
/// the stack through recursive `Arc` drops.
impl Drop for Inner {
    fn drop(&mut self) {
        let Some(node) = self.node.take() else { return };
        // Backward closures only hold clones of parents, which `parents`
        // still owns, so dropping the closure first never recurses.
        drop(node.backward);
        let mut stack = node.parents;
        while let Some(t) = stack.pop() {
            if let Some(mut inner) = Arc::into_inner(t.0) {
                if let Some(n) = inner.node.take() {
                    drop(n.backward);
                    stack.extend(n.parents);
                }
            }
        }
    }
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// An f32 tensor of any rank that records the ops applied to it so that
/// [`backward`](Tensor::backward) can compute gradients (define-by-run, like
/// PyTorch autograd).
///
/// `Tensor` is a cheap handle (`Arc`): cloning it shares data and gradient,
/// which is how layers hand their parameters to optimizers.
///
/// # Examples
/// ```
/// use edgegrad::autograd::Tensor;
/// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]).requires_grad_(true);
/// let y = x.mul(&x).sum_all(); // y = Σ x²
/// y.backward();
/// assert_eq!(x.grad().unwrap(), vec![2.0, 4.0, 6.0]);
/// ```
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<Inner>);

fn numel_of(shape: &[usize]) -> usize {
    shape.iter().product()
}

impl Tensor {
    // ---- construction --------------------------------------------------

    /// A tensor over `data` with `shape`.
    ///
    /// # Panics
    /// If `data.len()` is not the product of `shape`.
    pub fn from_vec(data: Vec<f32>, shape: &[usize]) -> Tensor {
        assert_eq!(
            data.len(),
            numel_of(shape),
            "Tensor::from_vec: {} values do not fill shape {:?}",
            data.len(),
            shape
        );
        Tensor::raw(shape.to_vec(), data, None)
    }

    /// A tensor copying `data` with `shape`.
    pub fn from_slice(data: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A rank-0 tensor holding `v`.
    pub fn scalar(v: f32) -> Tensor {
        Tensor::raw(Vec::new(), vec![v], None)
    }

    /// A tensor of `shape` filled with `v`.
    pub fn full(shape: &[usize], v: f32) -> Tensor {
        Tensor::raw(shape.to_vec(), vec![v; numel_of(shape)], None)
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// Standard normal draws from the global seeded RNG ([`rng::manual_seed`]).
    pub fn randn(shape: &[usize]) -> Tensor {
        let n = numel_of(shape);
        let data = rng::with_rng(|r| (0..n).map(|_| r.normal()).collect());
        Tensor::raw(shape.to_vec(), data, None)
    }

    /// Uniform draws in `[lo, hi)` from the global seeded RNG.
    pub fn rand_uniform(shape: &[usize], lo: f32, hi: f32) -> Tensor {
        let n = numel_of(shape);
        let data = rng::with_rng(|r| (0..n).map(|_| lo + (hi - lo) * r.uniform()).collect());
        Tensor::raw(shape.to_vec(), data, None)
    }

    pub(crate) fn raw(shape: Vec<usize>, data: Vec<f32>, node: Option<Node>) -> Tensor {
        debug_assert_eq!(data.len(), numel_of(&shape));
        let requires_grad = node.is_some();
        Tensor(Arc::new(Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape,
            data: RwLock::new(data),
            grad: Mutex::new(None),
            requires_grad: AtomicBool::new(requires_grad),
            node,
        }))
    }

    /// Builds the result of an op: records `backward` in the graph when
    /// gradients are enabled (see [`no_grad`](super::no_grad)) and any of
    /// `parents` requires a gradient; otherwise returns a plain tensor.
    ///
    /// This is the extension point for custom differentiable ops (PyTorch's
    /// `autograd.Function`): `backward(grad_out, out, needs)` returns one
    /// gradient per parent, each with that parent's shape (`None` where
    /// `needs[i]` is false).
    pub fn from_op<F>(
        name: &'static str,
        shape: Vec<usize>,
        data: Vec<f32>,
        parents: &[&Tensor],
        backward: F,
    ) -> Tensor
    where
        F: Fn(&[f32], &[f32], &[bool]) -> Vec<Option<Vec<f32>>> + Send + Sync + 'static,
    {
        assert_eq!(
            data.len(),
            numel_of(&shape),
            "op {name}: output data does not fill its shape {shape:?}"
        );
        let track = tape::is_grad_enabled() && parents.iter().any(|p| p.requires_grad());
        let node = track.then(|| Node {
            name,
            parents: parents.iter().map(|p| (*p).clone()).collect(),
            backward: Box::new(backward),
        });
        Tensor::raw(shape, data, node)
    }

    // ---- inspection ----------------------------------------------------

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.0.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.0.shape.len()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel_of(&self.0.shape)
    }

    /// Row-major strides in elements (the storage is always contiguous).
    pub fn strides(&self) -> Vec<usize> {
        contiguous_strides(&self.0.shape)
    }

    /// A unique id (stable for the life of the tensor).
    pub fn id(&self) -> usize {
        self.0.id
    }

    /// Read access to the data.
    pub fn data(&self) -> RwLockReadGuard<'_, Vec<f32>> {
        self.0.data.read().expect("tensor data lock poisoned")
    }

    /// Write access to the data (in-place updates by optimizers and running
    /// statistics; not recorded in the graph).
    pub fn data_mut(&self) -> RwLockWriteGuard<'_, Vec<f32>> {
        self.0.data.write().expect("tensor data lock poisoned")
    }

    /// A copy of the data.
    pub fn to_vec(&self) -> Vec<f32> {
        self.data().clone()
    }

    /// The single value of a one-element tensor.
    ///
    /// # Panics
    /// If the tensor does not hold exactly one element.
    pub fn item(&self) -> f32 {
        assert_eq!(
            self.numel(),
            1,
            "item() on a tensor of shape {:?}",
            self.shape()
        );
        self.data()[0]
    }

    // ---- gradients -------------------------------------------------------

    /// Whether gradients flow to (or through) this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Sets whether this tensor needs a gradient (freezing a parameter is
    /// `set_requires_grad(false)`).
    pub fn set_requires_grad(&self, on: bool) {
        self.0.requires_grad.store(on, Ordering::Relaxed);
    }

    /// Builder form of [`set_requires_grad`](Self::set_requires_grad).
    pub fn requires_grad_(self, on: bool) -> Tensor {
        self.set_requires_grad(on);
        self
    }

    /// True if the tensor was not produced by a recorded op.
    pub fn is_leaf(&self) -> bool {
        self.0.node.is_none()
    }

    /// The name of the op that produced this tensor, if recorded.
    pub fn op_name(&self) -> Option<&'static str> {
        self.0.node.as_ref().map(|n| n.name)
    }

    /// A copy of the accumulated gradient (leaves only), if any.
    pub fn grad(&self) -> Option<Vec<f32>> {
        self.grad_mut().clone()
    }

    /// The gradient as a tensor of this tensor's shape, if any.
    pub fn grad_tensor(&self) -> Option<Tensor> {
        self.grad().map(|g| Tensor::from_vec(g, self.shape()))
    }

    /// Mutable access to the accumulated gradient (optimizers, clipping).
    pub fn grad_mut(&self) -> MutexGuard<'_, Option<Vec<f32>>> {
        self.0.grad.lock().expect("tensor grad lock poisoned")
    }

    /// Forgets the accumulated gradient (PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        *self.grad_mut() = None;
    }

    pub(crate) fn accumulate_grad(&self, g: Vec<f32>) {
        let mut slot = self.grad_mut();
        match slot.as_mut() {
            Some(acc) => {
                acc.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
            }
            None => *slot = Some(g),
        }
    }

    /// A new leaf with a copy of this tensor's data, cut from the graph.
    pub fn detach(&self) -> Tensor {
        Tensor::raw(self.shape().to_vec(), self.to_vec(), None)
    }

    /// Reverse-mode differentiation from this scalar: accumulates
    /// d self / d leaf into every leaf that requires a gradient.
    ///
    /// # Panics
    /// If the tensor has more than one element (use
    /// [`backward_with`](Self::backward_with)), or if it does not require a
    /// gradient (nothing in its graph does, or it was made under `no_grad`).
    pub fn backward(&self) {
        assert_eq!(
            self.numel(),
            1,
            "backward() needs a scalar; this tensor has shape {:?} (use backward_with)",
            self.shape()
        );
        tape::backward(self, vec![1.0]);
    }

    /// Reverse-mode differentiation with an upstream gradient of this
    /// tensor's shape (vector-Jacobian product).
    pub fn backward_with(&self, grad: &Tensor) {
        assert_eq!(
            grad.shape(),
            self.shape(),
            "backward_with: upstream gradient shape {:?} differs from tensor shape {:?}",
            grad.shape(),
            self.shape()
        );
        tape::backward(self, grad.to_vec());
    }
}

/// Row-major strides of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.data();
        let shown: Vec<f32> = data.iter().take(8).copied().collect();
        write!(f, "Tensor(shape={:?}, data={:?}", self.shape(), shown)?;
        if data.len() > 8 {
            write!(f, "…")?;
        }
        if self.requires_grad() {
            write!(f, ", requires_grad")?;
        }
        if let Some(n) = &self.0.node {
            write!(f, ", op={}", n.name)?;
        }
        write!(f, ")")
    }
}
