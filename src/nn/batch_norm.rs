//! Batch normalisation over the channel (last) axis.

use std::any::Any;

use super::module::{param, Module};
use crate::autograd::{no_grad, Tensor};

/// Batch normalisation (Ioffe & Szegedy 2015) over the last axis, with
/// PyTorch's semantics: in training, normalise with the batch's mean and
/// biased variance and update the running statistics as
/// `running = (1 − momentum)·running + momentum·batch` (the variance
/// update uses the unbiased batch variance); in evaluation, normalise with
/// the running statistics. Defaults: `eps = 1e-5`, `momentum = 0.1`.
///
/// Channels-last makes the 1-D (`[n, c]`, `[n, len, c]`) and 2-D
/// (`[n, h, w, c]`) cases the same computation: statistics over every axis
/// but the last. [`BatchNorm1d`] and [`BatchNorm2d`] are this type.
pub struct BatchNorm {
    /// Scale γ `[c]` (init 1).
    pub weight: Tensor,
    /// Shift β `[c]` (init 0).
    pub bias: Tensor,
    /// Running mean `[c]` (init 0).
    pub running_mean: Tensor,
    /// Running variance `[c]` (init 1).
    pub running_var: Tensor,
    /// Added to the variance.
    pub eps: f32,
    /// Weight of the new batch in the running statistics.
    pub momentum: f32,
    training: bool,
}

/// Batch normalisation of `[n, c]` or `[n, len, c]`.
pub type BatchNorm1d = BatchNorm;
/// Batch normalisation of `[n, h, w, c]`.
pub type BatchNorm2d = BatchNorm;

impl BatchNorm {
    /// For `num_features` channels.
    pub fn new(num_features: usize) -> Self {
        BatchNorm {
            weight: param(Tensor::ones(&[num_features])),
            bias: param(Tensor::zeros(&[num_features])),
            running_mean: Tensor::zeros(&[num_features]),
            running_var: Tensor::ones(&[num_features]),
            eps: 1e-5,
            momentum: 0.1,
            training: true,
        }
    }

    /// Sets the momentum.
    pub fn momentum(mut self, m: f32) -> Self {
        self.momentum = m;
        self
    }
}

impl Module for BatchNorm {
    fn forward(&self, x: &Tensor) -> Tensor {
        let s = x.shape();
        let c = self.weight.numel();
        assert!(
            s.len() >= 2 && s[s.len() - 1] == c,
            "BatchNorm({c}) expects [.., {c}] input, got {s:?}"
        );
        if !self.training {
            let (scale, shift) = no_grad(|| {
                let inv = self.running_var.add_scalar(self.eps).sqrt();
                (Tensor::ones(&[c]).div(&inv), self.running_mean.clone())
            });
            return x.sub(&shift).mul(&scale).mul(&self.weight).add(&self.bias);
        }
        let axes: Vec<isize> = (0..s.len() as isize - 1).collect();
        let count = x.numel() / c;
        let mean = x.mean(&axes, false);
        let xc = x.sub(&mean);
        let var = xc.pow(2.0).mean(&axes, false);
        let y = xc
            .div(&var.add_scalar(self.eps).sqrt())
            .mul(&self.weight)
            .add(&self.bias);
        let m = self.momentum;
        let unbias = if count > 1 {
            count as f32 / (count - 1) as f32
        } else {
            1.0
        };
        {
            let (bm, bv) = (mean.data(), var.data());
            let mut rm = self.running_mean.data_mut();
            let mut rv = self.running_var.data_mut();
            for i in 0..c {
                rm[i] = (1.0 - m) * rm[i] + m * bm[i];
                rv[i] = (1.0 - m) * rv[i] + m * bv[i] * unbias;
            }
        }
        y
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        vec![
            ("weight".into(), self.weight.clone()),
            ("bias".into(), self.bias.clone()),
        ]
    }
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        vec![
            ("running_mean".into(), self.running_mean.clone()),
            ("running_var".into(), self.running_var.clone()),
        ]
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn is_training(&self) -> bool {
        self.training
    }
    fn describe(&self) -> String {
        format!("BatchNorm({})", self.weight.numel())
    }
    fn macs(&self, _input: &[usize], output: &[usize]) -> u64 {
        output.iter().product::<usize>() as u64
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
