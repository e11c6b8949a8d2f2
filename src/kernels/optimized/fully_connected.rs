//! FULLY_CONNECTED, int8: the reference
//! [`fully_connected_s8`](crate::kernels::reference::fully_connected_s8), fast.
//!
//! Four weight rows at a time against one input row (`dot4_strided`; on
//! the DSP path one `asm!` loop): each input word is loaded and offset
//! once for four outputs.

use super::dot::{dot1, dot4_strided};
use super::{requant, requant4};
use crate::kernels::reference::fully_connected::check;
use crate::kernels::RequantS8;
use crate::tensor::{TensorMut, TensorView};
use crate::Error;

/// int8 fully connected layer: same arguments, errors and results as
/// [`reference::fully_connected_s8`](crate::kernels::reference::fully_connected_s8).
/// Needs no scratch memory.
pub fn fully_connected_s8(
    input: TensorView<'_, i8>,
    weights: TensorView<'_, i8>,
    bias: Option<&[i32]>,
    output: &mut TensorMut<'_, i8>,
    q: &RequantS8<'_>,
) -> Result<(), Error> {
    let (batch, n_in, n_out) = check(&input, &weights, bias, output)?;
    q.validate(n_out)?;
    let (x, w) = (input.data(), weights.data());
    let out = output.data_mut();
    let zp = q.input_zero_point;
    for b in 0..batch {
        let xs = &x[b * n_in..][..n_in];
        let ys = &mut out[b * n_out..][..n_out];
        let mut o = 0;
        while o + 4 <= n_out {
            let mut acc = [0i32; 4];
            dot4_strided(xs, &w[o * n_in..][..4 * n_in], n_in, zp, &mut acc);
            requant4(acc, bias, o, q, &mut ys[o..]);
            o += 4;
        }
        while o < n_out {
            let acc = dot1(xs, &w[o * n_in..][..n_in], zp, 0);
            ys[o] = requant(acc, bias, o, q);
            o += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::kernels::reference;

    #[test]
    fn matches_reference_bit_for_bit() {
        let mut rng = Rng::new(0xF0);
        for iter in 0..3000 {
            let batch = rng.usize(1, 3);
            let n_in = if rng.bool() {
                rng.usize(1, 9)
            } else {
                rng.usize(10, 90)
            };
            let n_out = rng.usize(1, 13);
            let q = RandomQuant::new(&mut rng, n_out, n_in);
            let x = rng.vec_i8(batch * n_in);
            let w = rng.vec_weights(n_out * n_in);
            let bias: Vec<i32> = (0..n_out)
                .map(|_| rng.range(-30000, 30000) as i32)
                .collect();
            let bias = rng.bool().then_some(&bias[..]);
            let (mut want, mut got) = (vec![0i8; batch * n_out], vec![1i8; batch * n_out]);
            for (f, out) in [
                (reference::fully_connected_s8 as Fc, &mut want),
                (super::fully_connected_s8 as Fc, &mut got),
            ] {
                f(
                    view(&[batch, n_in], &x),
                    view(&[n_out, n_in], &w),
                    bias,
                    &mut view_mut(&[batch, n_out], out),
                    &q.requant(),
                )
                .unwrap();
            }
            assert_eq!(
                got, want,
                "case {iter}: batch {batch} in {n_in} out {n_out}"
            );
        }
    }

    type Fc = fn(
        crate::tensor::TensorView<i8>,
        crate::tensor::TensorView<i8>,
        Option<&[i32]>,
        &mut crate::tensor::TensorMut<i8>,
        &crate::kernels::RequantS8,
    ) -> Result<(), crate::Error>;
}
