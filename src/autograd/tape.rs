//! `backward()`: a topological sort of the recorded graph and one loop over
//! it in reverse (micrograd's engine), plus the `no_grad` switch.
//!
//! Gradients of intermediate tensors live only for the duration of one
//! `backward` call; leaves that require a gradient *accumulate* into their
//! `grad` until [`Tensor::zero_grad`] (PyTorch semantics). The graph is kept
//! alive by the output tensor, so calling `backward` twice accumulates twice.
//! Backward functions work on plain `f32` slices: there is no double
//! backward (no gradients of gradients).

use std::cell::Cell;
use std::collections::HashMap;

use super::tensor::Tensor;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops record the graph on this thread.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Runs `f` without recording the graph (PyTorch's `torch.no_grad()`):
/// evaluation and inference allocate no backward state.
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = NoGradGuard::new();
    f()
}

/// Disables graph recording on this thread until dropped.
pub struct NoGradGuard {
    prev: bool,
}

impl NoGradGuard {
    /// Disables recording; the previous state comes back on drop.
    pub fn new() -> Self {
        let prev = GRAD_ENABLED.with(|g| g.replace(false));
        NoGradGuard { prev }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.prev));
    }
}

/// Tensors reachable from `root` through recorded nodes, parents before
/// children (iterative DFS: deep graphs do not overflow the stack).
fn topo_order(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut visited = std::collections::HashSet::new();
    // (tensor, children pushed?)
    let mut stack = vec![(root.clone(), false)];
    while let Some((t, expanded)) = stack.pop() {
        if expanded {
            order.push(t);
            continue;
        }
        if !visited.insert(t.id()) {
            continue;
        }
        stack.push((t.clone(), true));
        if let Some(node) = &t.0.node {
            for p in &node.parents {
                if p.requires_grad() && !visited.contains(&p.id()) {
                    stack.push((p.clone(), false));
                }
            }
        }
    }
    order
}

/// Propagates `grad` (the gradient of `root`, with root's shape) to every
/// leaf that requires a gradient.
pub(crate) fn backward(root: &Tensor, grad: Vec<f32>) {
    if !root.requires_grad() {
        panic!("backward(): the tensor does not require grad (no parameter in its graph requires grad, or it was computed under no_grad)");
    }
    let order = topo_order(root);
    let mut grads: HashMap<usize, Vec<f32>> = HashMap::new();
    grads.insert(root.id(), grad);
    for t in order.iter().rev() {
        let Some(g) = grads.remove(&t.id()) else {
            continue;
        };
        match &t.0.node {
            None => {
                if t.requires_grad() {
                    t.accumulate_grad(g);
                }
            }
            Some(node) => {
                let needs: Vec<bool> = node.parents.iter().map(|p| p.requires_grad()).collect();
                let parent_grads = {
                    let out = t.data();
                    (node.backward)(&g, &out, &needs)
                };
                for ((p, pg), need) in node.parents.iter().zip(parent_grads).zip(needs) {
                    let Some(pg) = pg else { continue };
                    if !need {
                        continue;
                    }
                    debug_assert_eq!(
                        pg.len(),
                        p.numel(),
                        "op {} returned a gradient of the wrong size",
                        node.name
                    );
                    match grads.get_mut(&p.id()) {
                        Some(acc) => {
                            acc.iter_mut().zip(&pg).for_each(|(a, b)| *a += b);
                        }
                        None => {
                            grads.insert(p.id(), pg);
                        }
                    }
                }
            }
        }
    }
}
