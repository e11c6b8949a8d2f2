//! Learning-rate schedules as closed forms of the step (or epoch) count
//! `t`, matching PyTorch's schedulers: StepLR, ExponentialLR,
//! CosineAnnealingLR, and a linear warm-up (LinearLR) in front of any of them.

/// A learning rate as a function of the base rate and the step count.
pub trait LrSchedule: Send + Sync {
    /// The rate at step `t` (0-based) for base rate `base`.
    fn lr(&self, base: f32, t: usize) -> f32;
}

/// The base rate throughout.
#[derive(Clone, Copy, Debug, Default)]
pub struct Constant;

impl LrSchedule for Constant {
    fn lr(&self, base: f32, _t: usize) -> f32 {
        base
    }
}

/// `base · γ^⌊t / step_size⌋` (PyTorch's `StepLR`).
#[derive(Clone, Copy, Debug)]
pub struct StepLr {
    /// Steps between decays.
    pub step_size: usize,
    /// Decay factor γ.
    pub gamma: f32,
}

impl LrSchedule for StepLr {
    fn lr(&self, base: f32, t: usize) -> f32 {
        base * self.gamma.powi((t / self.step_size.max(1)) as i32)
    }
}

/// `base · γ^t` (PyTorch's `ExponentialLR`).
#[derive(Clone, Copy, Debug)]
pub struct ExponentialLr {
    /// Decay factor γ.
    pub gamma: f32,
}

impl LrSchedule for ExponentialLr {
    fn lr(&self, base: f32, t: usize) -> f32 {
        base * self.gamma.powi(t as i32)
    }
}

/// `η_min + (base − η_min)(1 + cos(π·t/T))/2` for `t ≤ T`, then `η_min`
/// (PyTorch's `CosineAnnealingLR`, closed form).
#[derive(Clone, Copy, Debug)]
pub struct CosineLr {
    /// Period T.
    pub t_max: usize,
    /// Final rate η_min.
    pub eta_min: f32,
}

impl LrSchedule for CosineLr {
    fn lr(&self, base: f32, t: usize) -> f32 {
        let t = t.min(self.t_max) as f32;
        self.eta_min
            + (base - self.eta_min)
                * (1.0 + (std::f32::consts::PI * t / self.t_max.max(1) as f32).cos())
                / 2.0
    }
}

/// Linear warm-up from `start_factor·base` to `base` over `warmup` steps
/// (PyTorch's `LinearLR`), then `after` (counted from the end of warm-up).
pub struct WarmUp {
    /// Warm-up length.
    pub warmup: usize,
    /// Factor at step 0.
    pub start_factor: f32,
    /// The schedule after warm-up.
    pub after: Box<dyn LrSchedule>,
}

impl WarmUp {
    /// Warm-up of `warmup` steps from `start_factor`, then `after`.
    pub fn new(warmup: usize, start_factor: f32, after: impl LrSchedule + 'static) -> Self {
        WarmUp {
            warmup,
            start_factor,
            after: Box::new(after),
        }
    }
}

impl LrSchedule for WarmUp {
    fn lr(&self, base: f32, t: usize) -> f32 {
        if t < self.warmup {
            base * (self.start_factor + (1.0 - self.start_factor) * t as f32 / self.warmup as f32)
        } else {
            self.after.lr(base, t - self.warmup)
        }
    }
}
