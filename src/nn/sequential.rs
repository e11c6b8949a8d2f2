//! A stack of layers applied in order, and its Keras-style `summary()`.

use std::any::Any;

use super::module::Module;
use crate::autograd::{no_grad, Tensor};

/// Layers applied in order (PyTorch's `nn.Sequential`, Keras's
/// `Sequential`). Children are typed layers behind `dyn Module`, so an
/// exporter walks [`layers`](Self::layers) and downcasts each with
/// [`layer`](Self::layer) or `as_any()`.
///
/// ```
/// use edgegrad::nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, Padding, ReLU, Sequential};
/// let mut model = Sequential::new()
///     .add(Conv2d::new(1, 4, 3).padding(Padding::Same))
///     .add(ReLU)
///     .add(MaxPool2d::new(2))
///     .add(Flatten)
///     .add(Linear::new(4 * 4 * 4, 10));
/// let text = model.summary(&[8, 8, 1]);
/// assert!(text.contains("Total params: 690"));
/// let conv = model.layer::<Conv2d>(0).unwrap();
/// assert_eq!(conv.weight.shape(), [4, 3, 3, 1]); // OHWI
/// ```
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
    training: bool,
}

impl Default for Sequential {
    fn default() -> Self {
        Self::new()
    }
}

impl Sequential {
    /// No layers, training mode.
    pub fn new() -> Self {
        Sequential {
            layers: Vec::new(),
            training: true,
        }
    }

    /// Appends a layer (builder style, Keras's `model.add`).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Module + 'static) -> Self {
        self.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer.
    pub fn push(&mut self, mut layer: Box<dyn Module>) {
        layer.set_training(self.training);
        self.layers.push(layer);
    }

    /// The layers.
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }

    /// The layers, mutably.
    pub fn layers_mut(&mut self) -> &mut [Box<dyn Module>] {
        &mut self.layers
    }

    /// Layer `i` as its concrete type, if it is a `T`.
    pub fn layer<T: 'static>(&self, i: usize) -> Option<&T> {
        self.layers.get(i)?.as_any().downcast_ref::<T>()
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True without layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Every intermediate output for one input (no graph), for tools.
    pub fn forward_trace(&self, x: &Tensor) -> Vec<Tensor> {
        no_grad(|| {
            let mut outs = Vec::with_capacity(self.layers.len());
            let mut h = x.clone();
            for l in &self.layers {
                h = l.forward(&h);
                outs.push(h.clone());
            }
            outs
        })
    }

    /// A table of every layer's output shape, parameter count and MACs for
    /// one example of `input_shape` (without the batch axis), with totals,
    /// like Keras's `model.summary()`. Runs one forward pass in evaluation
    /// mode (the previous mode is restored).
    pub fn summary(&mut self, input_shape: &[usize]) -> String {
        let was = self.training;
        self.set_training(false);
        let mut shape = vec![1];
        shape.extend_from_slice(input_shape);
        let outs = self.forward_trace(&Tensor::zeros(&shape));
        self.set_training(was);
        let mut s = String::new();
        let line = "─".repeat(86);
        s += &format!(
            "{:<44}{:<20}{:>10}{:>12}\n{line}\n",
            "Layer (type)", "Output Shape", "Param #", "MACs"
        );
        let (mut total_p, mut total_m, mut trainable) = (0usize, 0u64, 0usize);
        let mut in_shape = shape.clone();
        for (i, (l, o)) in self.layers.iter().zip(&outs).enumerate() {
            let params = l.num_parameters();
            let macs = l.macs(&in_shape, o.shape());
            total_p += params;
            trainable += l.num_trainable_parameters();
            total_m += macs;
            let out_shape: Vec<String> = std::iter::once("-".to_string())
                .chain(o.shape()[1..].iter().map(|d| d.to_string()))
                .collect();
            s += &format!(
                "{:<44}{:<20}{:>10}{:>12}\n",
                format!("{i}: {}", l.describe()),
                format!("[{}]", out_shape.join(", ")),
                group(params as u64),
                group(macs)
            );
            in_shape = o.shape().to_vec();
        }
        s += &format!("{line}\nTotal params: {}\nTrainable params: {}\nNon-trainable params: {}\nTotal MACs per example: {}\n", group(total_p as u64), group(trainable as u64), group((total_p - trainable) as u64), group(total_m));
        s
    }
}

/// `1234567` → `1,234,567`.
fn group(v: u64) -> String {
    let d = v.to_string();
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Module for Sequential {
    fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = x.clone();
        for l in &self.layers {
            h = l.forward(&h);
        }
        h
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            v.extend(
                l.named_parameters()
                    .into_iter()
                    .map(|(n, t)| (format!("{i}.{n}"), t)),
            );
        }
        v
    }
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            v.extend(
                l.named_buffers()
                    .into_iter()
                    .map(|(n, t)| (format!("{i}.{n}"), t)),
            );
        }
        v
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
        self.layers
            .iter_mut()
            .for_each(|l| l.set_training(training));
    }
    fn is_training(&self) -> bool {
        self.training
    }
    fn describe(&self) -> String {
        format!("Sequential({} layers)", self.layers.len())
    }
    fn macs(&self, input: &[usize], _output: &[usize]) -> u64 {
        let outs = self.forward_trace(&Tensor::zeros(input));
        let mut shape = input.to_vec();
        let mut m = 0;
        for (l, o) in self.layers.iter().zip(&outs) {
            m += l.macs(&shape, o.shape());
            shape = o.shape().to_vec();
        }
        m
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
