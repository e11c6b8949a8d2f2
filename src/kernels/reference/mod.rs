//! Portable reference kernels: the oracle for every optimized kernel.
