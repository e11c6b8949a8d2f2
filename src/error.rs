//! The crate's one error type.
//!
//! Every fallible function in edgegrad returns [`Error`]. Each malformed
//! model file, each shape mismatch and each resource shortfall has its own
//! variant, so that a caller (or a test) can tell exactly what went wrong
//! without parsing a message. The type is `Copy`, allocation-free and
//! implements `Display` (and `defmt::Format` behind the `defmt` feature).

use core::fmt;

/// What went wrong.
///
/// Indices are those of the model file: `tensor` is an index into the tensor
/// table, `op` an index into the operator list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    // ---- shapes and tensors -------------------------------------------
    /// A shape has more than [`MAX_RANK`](crate::tensor::MAX_RANK) dimensions.
    RankTooLarge {
        /// The rank asked for.
        rank: usize,
    },
    /// The product of a shape's dimensions does not fit in `usize`/`u32`.
    ShapeOverflow,
    /// A buffer's length does not match the shape it is viewed with.
    LengthMismatch {
        /// Elements the shape needs.
        expected: usize,
        /// Elements the buffer holds.
        got: usize,
    },
    /// Two tensors that an operation combines have incompatible shapes.
    ShapeMismatch,
    /// A tensor has a different element type from the one asked for.
    DTypeMismatch,
    /// A parameter of a kernel is out of its domain (zero stride, a
    /// multiplier shift outside `[-31, 30]`, an empty pooling window, …).
    InvalidParameter,

    // ---- the model file ------------------------------------------------
    /// The file is shorter than its header says it is, or than a header.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// The file is longer than its header says it is.
    TrailingBytes,
    /// The file does not start with the edgegrad magic bytes.
    BadMagic,
    /// The format version is not one this build reads.
    UnsupportedVersion {
        /// The version found in the file.
        found: u16,
    },
    /// The header's own length field is not the one of its version.
    BadHeaderLength,
    /// The CRC32 stored in the header does not match the file's bytes.
    CrcMismatch {
        /// The CRC stored in the header.
        stored: u32,
        /// The CRC of the bytes.
        computed: u32,
    },
    /// The model bytes do not start on a 16-byte boundary, so constants
    /// cannot be read in place. Use [`AlignedModel`](crate::model::AlignedModel)
    /// or `include_model!`.
    MisalignedModel,
    /// A section (tensor table, op list, index list, constant pool) lies
    /// outside the file or starts misaligned.
    BadSection,
    /// A table holds more entries than this build supports.
    TooManyEntries,
    /// A tensor's element-type code is unknown.
    UnknownDType {
        /// The tensor.
        tensor: u16,
    },
    /// A tensor's rank or dimensions are invalid (rank above 4, a zero
    /// dimension, or an element count that overflows).
    BadShape {
        /// The tensor.
        tensor: u16,
    },
    /// A tensor's storage kind code is unknown.
    UnknownStorage {
        /// The tensor.
        tensor: u16,
    },
    /// A constant tensor's data lies outside the constant pool.
    ConstantOutOfBounds {
        /// The tensor.
        tensor: u16,
    },
    /// A tensor's data is not aligned to its element size.
    MisalignedTensor {
        /// The tensor.
        tensor: u16,
    },
    /// An arena tensor's offset plus length runs past the planned arena size.
    ArenaOffsetOutOfBounds {
        /// The tensor.
        tensor: u16,
    },
    /// The header's arena size is not the end of the last arena buffer the
    /// plan places (a plan that wastes memory or a corrupted header).
    ArenaSizeMismatch {
        /// The size the header states.
        stated: usize,
        /// The end of the last planned buffer.
        planned: usize,
    },
    /// Two arena tensors that are alive at the same time share bytes.
    OverlappingTensors {
        /// One tensor.
        a: u16,
        /// The other.
        b: u16,
    },
    /// A tensor's quantization parameters are invalid (non-finite or
    /// non-positive scale, zero point out of range, per-channel axis or
    /// scale count wrong).
    BadQuantization {
        /// The tensor.
        tensor: u16,
    },
    /// An operator's code is unknown to this build.
    UnknownOpCode {
        /// The operator.
        op: u16,
        /// The code found.
        code: u8,
    },
    /// An operator names a tensor index past the end of the tensor table.
    TensorIndexOutOfRange {
        /// The operator (or `u16::MAX` for the model's input/output list).
        op: u16,
        /// The index found.
        index: u16,
    },
    /// An operator has the wrong number of inputs or outputs.
    WrongArity {
        /// The operator.
        op: u16,
    },
    /// An operator's tensors have element types it does not accept.
    BadOpDTypes {
        /// The operator.
        op: u16,
    },
    /// An operator's tensor shapes are inconsistent with its options.
    BadOpShapes {
        /// The operator.
        op: u16,
    },
    /// An operator's options are malformed or out of range.
    BadOpOptions {
        /// The operator.
        op: u16,
    },
    /// An operator reads a tensor that no earlier operator wrote and that is
    /// neither a model input nor a constant, or writes a constant or input.
    BadDataflow {
        /// The operator.
        op: u16,
    },
    /// The model's input or output list is empty or names a constant.
    BadModelIo,

    // ---- running ---------------------------------------------------------
    /// The arena given to the interpreter is smaller than the model needs.
    ArenaTooSmall {
        /// Bytes needed (including alignment slack for the given buffer).
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// The model uses an operator (in an element type) that the firmware did
    /// not register with its [`OpResolver`](crate::model::OpResolver).
    OpNotRegistered {
        /// The operator.
        op: u16,
    },
    /// An input or output index past the model's inputs or outputs.
    NoSuchIo {
        /// The index asked for.
        index: usize,
    },
}

impl Error {
    /// The variant's name (`"CrcMismatch"`): a short, allocation-free and
    /// format-free description for firmware that cannot afford
    /// `core::fmt` (the `Display` text says more).
    pub const fn name(&self) -> &'static str {
        match self {
            Error::RankTooLarge { .. } => "RankTooLarge",
            Error::ShapeOverflow => "ShapeOverflow",
            Error::LengthMismatch { .. } => "LengthMismatch",
            Error::ShapeMismatch => "ShapeMismatch",
            Error::DTypeMismatch => "DTypeMismatch",
            Error::InvalidParameter => "InvalidParameter",
            Error::Truncated { .. } => "Truncated",
            Error::TrailingBytes => "TrailingBytes",
            Error::BadMagic => "BadMagic",
            Error::UnsupportedVersion { .. } => "UnsupportedVersion",
            Error::BadHeaderLength => "BadHeaderLength",
            Error::CrcMismatch { .. } => "CrcMismatch",
            Error::MisalignedModel => "MisalignedModel",
            Error::BadSection => "BadSection",
            Error::TooManyEntries => "TooManyEntries",
            Error::UnknownDType { .. } => "UnknownDType",
            Error::BadShape { .. } => "BadShape",
            Error::UnknownStorage { .. } => "UnknownStorage",
            Error::ConstantOutOfBounds { .. } => "ConstantOutOfBounds",
            Error::MisalignedTensor { .. } => "MisalignedTensor",
            Error::ArenaOffsetOutOfBounds { .. } => "ArenaOffsetOutOfBounds",
            Error::ArenaSizeMismatch { .. } => "ArenaSizeMismatch",
            Error::OverlappingTensors { .. } => "OverlappingTensors",
            Error::BadQuantization { .. } => "BadQuantization",
            Error::UnknownOpCode { .. } => "UnknownOpCode",
            Error::TensorIndexOutOfRange { .. } => "TensorIndexOutOfRange",
            Error::WrongArity { .. } => "WrongArity",
            Error::BadOpDTypes { .. } => "BadOpDTypes",
            Error::BadOpShapes { .. } => "BadOpShapes",
            Error::BadOpOptions { .. } => "BadOpOptions",
            Error::BadDataflow { .. } => "BadDataflow",
            Error::BadModelIo => "BadModelIo",
            Error::ArenaTooSmall { .. } => "ArenaTooSmall",
            Error::OpNotRegistered { .. } => "OpNotRegistered",
            Error::NoSuchIo { .. } => "NoSuchIo",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        match *self {
            RankTooLarge { rank } => write!(f, "rank {rank} exceeds the maximum of 4"),
            ShapeOverflow => f.write_str("shape's element count overflows"),
            LengthMismatch { expected, got } => {
                write!(f, "buffer holds {got} elements, shape needs {expected}")
            }
            ShapeMismatch => f.write_str("incompatible tensor shapes"),
            DTypeMismatch => f.write_str("wrong element type"),
            InvalidParameter => f.write_str("kernel parameter out of range"),
            Truncated { needed, got } => {
                write!(f, "model file truncated: needs {needed} bytes, has {got}")
            }
            TrailingBytes => f.write_str("model file has bytes past its stated length"),
            BadMagic => f.write_str("not an edgegrad model file (bad magic)"),
            UnsupportedVersion { found } => {
                write!(f, "unsupported model format version {found}")
            }
            BadHeaderLength => f.write_str("model header length is wrong for its version"),
            CrcMismatch { stored, computed } => write!(
                f,
                "model file corrupt: CRC32 is {computed:#010x}, header says {stored:#010x}"
            ),
            MisalignedModel => f.write_str("model bytes must start on a 16-byte boundary"),
            BadSection => f.write_str("a section of the model file is out of bounds or misaligned"),
            TooManyEntries => f.write_str("model has more tensors or operators than supported"),
            UnknownDType { tensor } => write!(f, "tensor {tensor}: unknown element type"),
            BadShape { tensor } => write!(f, "tensor {tensor}: invalid shape"),
            UnknownStorage { tensor } => write!(f, "tensor {tensor}: unknown storage kind"),
            ConstantOutOfBounds { tensor } => {
                write!(
                    f,
                    "tensor {tensor}: constant data outside the constant pool"
                )
            }
            MisalignedTensor { tensor } => write!(f, "tensor {tensor}: data misaligned"),
            ArenaOffsetOutOfBounds { tensor } => {
                write!(f, "tensor {tensor}: arena offset past the end of the arena")
            }
            ArenaSizeMismatch { stated, planned } => write!(
                f,
                "header states an arena of {stated} bytes, the plan ends at {planned}"
            ),
            OverlappingTensors { a, b } => {
                write!(
                    f,
                    "tensors {a} and {b} are live together but overlap in the arena"
                )
            }
            BadQuantization { tensor } => {
                write!(f, "tensor {tensor}: invalid quantization parameters")
            }
            UnknownOpCode { op, code } => write!(f, "operator {op}: unknown op code {code}"),
            TensorIndexOutOfRange { op, index } => {
                write!(f, "operator {op}: tensor index {index} out of range")
            }
            WrongArity { op } => write!(f, "operator {op}: wrong number of inputs or outputs"),
            BadOpDTypes { op } => write!(f, "operator {op}: unsupported element types"),
            BadOpShapes { op } => write!(f, "operator {op}: inconsistent shapes"),
            BadOpOptions { op } => write!(f, "operator {op}: invalid options"),
            BadDataflow { op } => {
                write!(
                    f,
                    "operator {op}: reads an unwritten tensor or writes a constant"
                )
            }
            BadModelIo => f.write_str("model inputs/outputs are empty or invalid"),
            ArenaTooSmall { needed, got } => {
                write!(f, "arena too small: needs {needed} bytes, got {got}")
            }
            OpNotRegistered { op } => {
                write!(
                    f,
                    "operator {op}: kernel not registered with the op resolver"
                )
            }
            NoSuchIo { index } => write!(f, "no model input/output with index {index}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
