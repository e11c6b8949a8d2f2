//! [`QuantParams`]: how integers stand for real numbers
//! (`real = scale × (q − zero_point)`).

/// Quantization parameters of a tensor.
///
/// Activations are per-tensor and asymmetric; weights are per output channel
/// and symmetric (zero point 0), as in the TensorFlow Lite int8
/// specification.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QuantParams<'a> {
    /// Not quantized (float tensors, int32 tensors holding plain integers).
    None,
    /// One scale and zero point for the whole tensor.
    PerTensor {
        /// Real value of one step.
        scale: f32,
        /// The integer that stands for real 0.
        zero_point: i32,
    },
    /// One scale per index along `axis`; zero point 0.
    PerChannel {
        /// One scale per channel.
        scales: &'a [f32],
        /// The channel dimension.
        axis: usize,
    },
}

impl QuantParams<'_> {
    /// The per-tensor `(scale, zero_point)`, if the parameters are per-tensor.
    pub fn per_tensor(&self) -> Option<(f32, i32)> {
        match *self {
            QuantParams::PerTensor { scale, zero_point } => Some((scale, zero_point)),
            _ => None,
        }
    }

    /// The scale of channel `c` (the tensor's one scale when per-tensor).
    pub fn scale(&self, c: usize) -> Option<f32> {
        match *self {
            QuantParams::None => None,
            QuantParams::PerTensor { scale, .. } => Some(scale),
            QuantParams::PerChannel { scales, .. } => scales.get(c).copied(),
        }
    }

    /// The zero point (0 for per-channel and unquantized tensors).
    pub fn zero_point(&self) -> i32 {
        match *self {
            QuantParams::PerTensor { zero_point, .. } => zero_point,
            _ => 0,
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for QuantParams<'_> {
    fn format(&self, f: defmt::Formatter) {
        match self {
            QuantParams::None => defmt::write!(f, "None"),
            QuantParams::PerTensor { scale, zero_point } => {
                defmt::write!(f, "PerTensor(scale={}, zp={})", scale, zero_point)
            }
            QuantParams::PerChannel { scales, axis } => {
                defmt::write!(f, "PerChannel({} scales, axis {})", scales.len(), axis)
            }
        }
    }
}
