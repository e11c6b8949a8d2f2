//! [`OpCode`]: the operators a model file can hold, and [`KernelType`]:
//! the element type a kernel is registered for.

/// An operator of the model file. Each variant's module in `model/ops/`
/// (same name, snake case) documents its inputs, outputs and option words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum OpCode {
    /// 2-D convolution (NHWC input, OHWI filter, optional bias).
    Conv2d = 0,
    /// Depthwise 2-D convolution with a channel multiplier.
    DepthwiseConv2d = 1,
    /// Fully connected (dense) layer.
    FullyConnected = 2,
    /// 2-D max pooling.
    MaxPool2d = 3,
    /// 2-D average pooling.
    AvgPool2d = 4,
    /// Average over height and width (TFLite MEAN over axes 1, 2).
    GlobalAvgPool = 5,
    /// Element-wise addition with broadcasting.
    Add = 6,
    /// Element-wise multiplication with broadcasting.
    Mul = 7,
    /// `max(x, 0)`.
    Relu = 8,
    /// `min(max(x, 0), 6)`.
    Relu6 = 9,
    /// `x ≥ 0 ? x : αx`.
    LeakyRelu = 10,
    /// Logistic sigmoid.
    Sigmoid = 11,
    /// Hyperbolic tangent.
    Tanh = 12,
    /// Softmax over the last axis.
    Softmax = 13,
    /// Same data, new shape (flatten, squeeze).
    Reshape = 14,
    /// Concatenation along an axis.
    Concatenation = 15,
    /// Float to int8 (or int8 to int8 with new parameters).
    Quantize = 16,
    /// Int8 to float.
    Dequantize = 17,
    /// Constant padding of an NHWC tensor.
    Pad = 18,
    /// LSTM over a sequence: int8 (TFLite `UNIDIRECTIONAL_SEQUENCE_LSTM`)
    /// or f32/f16 (ONNX `LSTM`), its hidden and cell state persistent
    /// across invokes.
    Lstm = 19,
    /// A strided window of a tensor (TFLite `STRIDED_SLICE`, ONNX `Slice`
    /// and `Gather` of one index).
    StridedSlice = 20,
    /// Float GRU over a sequence (ONNX `GRU`), its hidden state persistent
    /// across invokes.
    Gru = 21,
}

/// The number of op codes.
pub const OPCODE_COUNT: usize = 22;

impl OpCode {
    /// Every op code, in code order.
    pub const ALL: [OpCode; OPCODE_COUNT] = [
        OpCode::Conv2d,
        OpCode::DepthwiseConv2d,
        OpCode::FullyConnected,
        OpCode::MaxPool2d,
        OpCode::AvgPool2d,
        OpCode::GlobalAvgPool,
        OpCode::Add,
        OpCode::Mul,
        OpCode::Relu,
        OpCode::Relu6,
        OpCode::LeakyRelu,
        OpCode::Sigmoid,
        OpCode::Tanh,
        OpCode::Softmax,
        OpCode::Reshape,
        OpCode::Concatenation,
        OpCode::Quantize,
        OpCode::Dequantize,
        OpCode::Pad,
        OpCode::Lstm,
        OpCode::StridedSlice,
        OpCode::Gru,
    ];

    /// The op with file code `code`.
    pub const fn from_code(code: u8) -> Option<OpCode> {
        if (code as usize) < OPCODE_COUNT {
            Some(Self::ALL[code as usize])
        } else {
            None
        }
    }

    /// The op's name as the model file tools print it (`"conv2d"`).
    pub const fn name(self) -> &'static str {
        match self {
            OpCode::Conv2d => "conv2d",
            OpCode::DepthwiseConv2d => "depthwise_conv2d",
            OpCode::FullyConnected => "fully_connected",
            OpCode::MaxPool2d => "max_pool2d",
            OpCode::AvgPool2d => "avg_pool2d",
            OpCode::GlobalAvgPool => "global_avg_pool",
            OpCode::Add => "add",
            OpCode::Mul => "mul",
            OpCode::Relu => "relu",
            OpCode::Relu6 => "relu6",
            OpCode::LeakyRelu => "leaky_relu",
            OpCode::Sigmoid => "sigmoid",
            OpCode::Tanh => "tanh",
            OpCode::Softmax => "softmax",
            OpCode::Reshape => "reshape",
            OpCode::Concatenation => "concatenation",
            OpCode::Quantize => "quantize",
            OpCode::Dequantize => "dequantize",
            OpCode::Pad => "pad",
            OpCode::Lstm => "lstm",
            OpCode::StridedSlice => "strided_slice",
            OpCode::Gru => "gru",
        }
    }

    /// True when the op may write its output over its first input (same
    /// bytes), which the planner uses when that input dies at this op.
    pub const fn can_run_in_place(self) -> bool {
        matches!(
            self,
            OpCode::Relu
                | OpCode::Relu6
                | OpCode::LeakyRelu
                | OpCode::Sigmoid
                | OpCode::Tanh
                | OpCode::Reshape
        )
    }
}

/// The element type a kernel is registered for: int8, f16 or f32.
///
/// An op's kernel type is the element type of its output, except for
/// [`OpCode::Quantize`], whose kernel type is that of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum KernelType {
    /// int8 activations.
    S8 = 0,
    /// half-precision storage, f32 arithmetic.
    F16 = 1,
    /// f32.
    F32 = 2,
}

/// The number of kernel types.
pub const KERNEL_TYPE_COUNT: usize = 3;

impl KernelType {
    /// The kernel type of tensors of `dtype`, if kernels exist for it.
    pub const fn of(dtype: crate::tensor::DType) -> Option<KernelType> {
        match dtype {
            crate::tensor::DType::I8 => Some(KernelType::S8),
            crate::tensor::DType::F16 => Some(KernelType::F16),
            crate::tensor::DType::F32 => Some(KernelType::F32),
            _ => None,
        }
    }

    /// `"s8"`, `"f16"` or `"f32"`, the suffix of the kernels' names.
    pub const fn suffix(self) -> &'static str {
        match self {
            KernelType::S8 => "s8",
            KernelType::F16 => "f16",
            KernelType::F32 => "f32",
        }
    }
}

// Every (op, kernel type) pair has a bit of `OpSet`.
const _: () = assert!(OPCODE_COUNT * KERNEL_TYPE_COUNT <= 128);

/// A set of (op, kernel type) pairs: what a model needs or a resolver has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OpSet(u128);

impl OpSet {
    /// The empty set.
    pub const EMPTY: OpSet = OpSet(0);

    const fn bit(op: OpCode, kt: KernelType) -> u128 {
        1u128 << (op as usize * KERNEL_TYPE_COUNT + kt as usize)
    }

    /// The set with `(op, kt)` added.
    pub const fn with(self, op: OpCode, kt: KernelType) -> OpSet {
        OpSet(self.0 | Self::bit(op, kt))
    }

    /// True when `(op, kt)` is in the set.
    pub const fn contains(self, op: OpCode, kt: KernelType) -> bool {
        self.0 & Self::bit(op, kt) != 0
    }

    /// True when every pair of `other` is in `self`.
    pub const fn covers(self, other: OpSet) -> bool {
        other.0 & !self.0 == 0
    }

    /// The pairs of `self` that are not in `other`.
    pub const fn minus(self, other: OpSet) -> OpSet {
        OpSet(self.0 & !other.0)
    }

    /// True when the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Iterates over the pairs in the set.
    pub fn iter(self) -> impl Iterator<Item = (OpCode, KernelType)> {
        OpCode::ALL.into_iter().flat_map(move |op| {
            [KernelType::S8, KernelType::F16, KernelType::F32]
                .into_iter()
                .filter(move |&kt| self.contains(op, kt))
                .map(move |kt| (op, kt))
        })
    }
}
