//! The linear layer every product with a weight matrix goes through, and, in the wasm
//! build with relaxed SIMD, its own kernel.
//!
//! With candle's matmul (natively and in the plain wasm build) the weight is kept
//! input-major: gemm's single-row path (every decoded token) then accumulates whole output
//! rows at once rather than one dot product per output. Measured here: wasm decode ~1,100 ->
//! ~1,380 tokens/s (Node), native game step ~4.6 -> ~4.2 ms.
//!
//! Profiled in Node, gemm's SIMD128 microkernels were about 70% of a wasm game step. SIMD128
//! has no fused multiply-add, so they multiply and add apart; relaxed SIMD's
//! `f32x4.relaxed_madd` is one FMA where the CPU has one. gemm cannot use it, so the relaxed
//! build multiplies with the kernel below, over the weight as PyTorch stores it
//! (output-major). Natively gemm picks AVX2 or AVX-512 FMA kernels itself.

use candle_core::{Module, Result, Tensor};

pub(super) struct Linear {
    /// In the layout `product` reads (`layout`).
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// `weight`: [outputs, inputs], as PyTorch stores it.
    pub(super) fn new(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        Ok(Linear { weight: layout(weight)?, bias })
    }
}

impl Module for Linear {
    /// `x`: [n, inputs] -> [n, outputs].
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = product(x, &self.weight)?;
        match &self.bias {
            Some(bias) => y.broadcast_add(bias),
            None => Ok(y),
        }
    }
}

/// Input-major: [inputs, outputs], contiguous.
#[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
fn layout(weight: Tensor) -> Result<Tensor> {
    weight.t()?.contiguous()
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
fn product(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    x.matmul(weight)
}

/// Output-major, as stored: [outputs, inputs], contiguous (see `relaxed::Product`).
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
fn layout(weight: Tensor) -> Result<Tensor> {
    weight.contiguous()
}

#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
fn product(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op2_no_bwd(weight, &relaxed::Product)
}

#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
mod relaxed {
    use candle_core::backend::BackendStorage;
    use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape};
    use core::arch::wasm32::{f32x4_extract_lane, f32x4_relaxed_madd, f32x4_splat, v128, v128_load};

    /// `x` [m, k] times the transpose of `w` [n, k] (output-major, as PyTorch stores it), both
    /// contiguous f32: every output is a dot product of two contiguous rows, so the kernel
    /// reads both operands front to back. (Walking an input-major weight column strip by
    /// column strip, as a register tile must, strode across pages and made decoding, one row
    /// at a time, slower than gemm's plain SIMD.)
    pub(super) struct Product;

    impl CustomOp2 for Product {
        fn name(&self) -> &'static str {
            "gatito-relaxed-product"
        }

        fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout, ws: &CpuStorage, wl: &Layout) -> Result<(CpuStorage, Shape)> {
            let (x, w) = match (xs, ws, xl.contiguous_offsets(), wl.contiguous_offsets()) {
                (CpuStorage::F32(x), CpuStorage::F32(w), Some((xa, xb)), Some((wa, wb))) => (&x[xa..xb], &w[wa..wb]),
                _ => candle_core::bail!("{} needs contiguous f32 operands, not {:?}", self.name(), xs.dtype()),
            };
            let ((m, k), (n, inputs)) = (xl.shape().dims2()?, wl.shape().dims2()?);
            if k != inputs {
                candle_core::bail!("{}: [{m}, {k}] times [{n}, {inputs}] transposed", self.name());
            }
            let mut out = vec![0.0; m * n];
            // Blocks of R rows times C outputs, in R x C accumulators. The shapes keep the
            // accumulators, one input vector and the C weight vectors within the 15 vector
            // registers V8 allocates on x86-64 (measured in Chromium: wider tiles spilled and
            // ran slower), and keep 8 or more independent accumulators to cover each FMA's latency.
            let mut row = 0;
            while row + 4 <= m {
                rows::<4, 2>(x, w, &mut out, row, k, n);
                row += 4;
            }
            // The last rows in one narrower block (each block reads the whole weight matrix).
            match m - row {
                0 => {}
                1 => rows::<1, 8>(x, w, &mut out, row, k, n),
                2 => rows::<2, 4>(x, w, &mut out, row, k, n),
                _ => rows::<3, 3>(x, w, &mut out, row, k, n),
            }
            Ok((CpuStorage::F32(out), Shape::from((m, n))))
        }
    }

    /// R rows of the output from `row` on: C outputs at a time, then one by one.
    fn rows<const R: usize, const C: usize>(x: &[f32], w: &[f32], out: &mut [f32], row: usize, k: usize, n: usize) {
        let inputs: [&[f32]; R] = std::array::from_fn(|r| &x[(row + r) * k..][..k]);
        let mut col = 0;
        while col + C <= n {
            tile::<R, C>(&inputs, w, out, row, col, n);
            col += C;
        }
        for col in col..n {
            tile::<R, 1>(&inputs, w, out, row, col, n);
        }
    }

    /// The R x C block of the output at (`row`, `col`): four-float partial sums over the
    /// inner dimension, added up at the end.
    fn tile<const R: usize, const C: usize>(
        inputs: &[&[f32]; R],
        w: &[f32],
        out: &mut [f32],
        row: usize,
        col: usize,
        n: usize,
    ) {
        let k = inputs[0].len();
        let weights: [&[f32]; C] = std::array::from_fn(|c| &w[(col + c) * k..][..k]);
        let vectors = k / 4;
        let mut acc = [[f32x4_splat(0.0); C]; R];
        for i in (0..4 * vectors).step_by(4) {
            // SAFETY: i + 4 <= k, the length of every input and weight row; v128_load has no
            // alignment requirement.
            let w: [v128; C] = std::array::from_fn(|c| unsafe { v128_load(weights[c][i..][..4].as_ptr().cast()) });
            for (acc, input) in acc.iter_mut().zip(inputs) {
                let x = unsafe { v128_load(input[i..][..4].as_ptr().cast()) };
                for (acc, &w) in acc.iter_mut().zip(&w) {
                    *acc = f32x4_relaxed_madd(x, w, *acc);
                }
            }
        }
        for (r, (acc, input)) in acc.iter().zip(inputs).enumerate() {
            for (c, (&acc, weights)) in acc.iter().zip(&weights).enumerate() {
                let lanes = f32x4_extract_lane::<0>(acc)
                    + f32x4_extract_lane::<1>(acc)
                    + f32x4_extract_lane::<2>(acc)
                    + f32x4_extract_lane::<3>(acc);
                let rest: f32 = input[4 * vectors..].iter().zip(&weights[4 * vectors..]).map(|(x, w)| x * w).sum();
                out[(row + r) * n + col + c] = lanes + rest;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The layer against candle's matmul of the weight as stored, on shapes that leave every
    /// kind of remainder the relaxed kernel has (rows, outputs, floats). Built with relaxed
    /// SIMD this checks the kernel (`cargo test --target wasm32-unknown-unknown` with its
    /// RUSTFLAGS, under a wasm runner); build.sh's wasm tests hold that build to the golden
    /// logits in Chromium.
    #[test]
    fn matches_candles_matmul() {
        let value = |i: usize| ((i * 37 % 101) as f32 - 50.0) / 25.0;
        for (m, k, n) in [(1, 8, 12), (18, 192, 576), (7, 33, 1494), (5, 16, 3)] {
            let x = Tensor::from_vec((0..m * k).map(value).collect(), (m, k), &Device::Cpu).unwrap();
            let weight = Tensor::from_vec((0..n * k).map(|i| value(i + 5)).collect(), (n, k), &Device::Cpu).unwrap();
            let bias = Tensor::from_vec((0..n).map(value).collect(), n, &Device::Cpu).unwrap();
            let ours = Linear::new(weight.clone(), Some(bias.clone())).unwrap().forward(&x).unwrap();
            let theirs = x.matmul(&weight.t().unwrap()).unwrap().broadcast_add(&bias).unwrap();
            let diff = (ours - theirs).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap();
            let diff = diff.to_scalar::<f32>().unwrap();
            assert!(diff < 1e-3, "[{m}, {k}] x [{k}, {n}]: max diff {diff}");
        }
    }
}
