//! The patch embedding's convolutions as one matrix product over every patch at once.
//!
//! candle's conv2d unfolds each image (here: each patch) on its own, through a general
//! strided loop, then runs one small product per image. A step's 16 patches on a 4x4 grid
//! made that about 14% of a native game step (perf): the unfolding's index arithmetic, not
//! the arithmetic of the convolution. Here every patch's cells are unfolded into one
//! [patches * cells, channels * k * k] matrix by a plain loop and multiplied once, with the
//! same weights (a [c_out, c_in, k, k] kernel is a [c_out, c_in * k * k] linear map).

use super::linear::Linear;
use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

pub(super) struct Conv {
    /// The kernel as a linear layer over one unfolded cell.
    linear: Linear,
    kernel: usize,
    stride: usize,
    padding: usize,
}

impl Conv {
    pub(super) fn load(
        inputs: usize,
        outputs: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let width = inputs * kernel * kernel;
        let weight = vb.get((outputs, inputs, kernel, kernel), "weight")?.reshape((outputs, width))?;
        let linear = Linear::new(weight, Some(vb.get(outputs, "bias")?))?;
        Ok(Conv { linear, kernel, stride, padding })
    }

    /// `x`: [P, c_in, side, side] -> [P, c_out, out_side, out_side].
    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (images, channels, side, _) = x.dims4()?;
        let out_side = (side + 2 * self.padding - self.kernel) / self.stride + 1;
        let cells = out_side * out_side;
        let unfolded = self.unfold(&x.flatten_all()?.to_vec1::<f32>()?, channels, side, out_side);
        let width = channels * self.kernel * self.kernel;
        let y = self.linear.forward(&Tensor::from_vec(unfolded, (images * cells, width), x.device())?)?;
        // Cell-major rows back to channel-first images, the layout GroupNorm and the
        // projection (and the PyTorch recipe) use.
        let outputs = y.dim(1)?;
        y.reshape((images, cells, outputs))?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((images, outputs, out_side, out_side))
    }

    /// One row per output cell: the `kernel` x `kernel` window of every input channel under
    /// it, in the kernel's own (channel, row, column) order, zero outside the image.
    fn unfold(&self, x: &[f32], channels: usize, side: usize, out_side: usize) -> Vec<f32> {
        let (k, width) = (self.kernel, channels * self.kernel * self.kernel);
        let mut rows = vec![0.0; x.len() / (side * side) / channels * out_side * out_side * width];
        let images = x.chunks_exact(channels * side * side).zip(rows.chunks_exact_mut(out_side * out_side * width));
        for (image, image_rows) in images {
            for (cell, row) in image_rows.chunks_exact_mut(width).enumerate() {
                let (top, left) = ((cell / out_side) * self.stride, (cell % out_side) * self.stride);
                for (channel, window) in row.chunks_exact_mut(k * k).enumerate() {
                    let plane = &image[channel * side * side..][..side * side];
                    for (dy, window_row) in window.chunks_exact_mut(k).enumerate() {
                        // Unsigned: above the image (top + dy < padding) wraps to past its end.
                        let y = (top + dy).wrapping_sub(self.padding);
                        if y >= side {
                            continue;
                        }
                        for (dx, value) in window_row.iter_mut().enumerate() {
                            let x = (left + dx).wrapping_sub(self.padding);
                            if x < side {
                                *value = plane[y * side + x];
                            }
                        }
                    }
                }
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    /// The same convolutions as candle's conv2d, on the shapes the patch embedding uses.
    #[test]
    fn matches_candles_conv2d() {
        for (inputs, outputs, side, kernel, stride, padding) in [(3, 8, 16, 4, 4, 0), (8, 8, 4, 3, 1, 1)] {
            let map = VarMap::new();
            let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
            // candle's first: it draws random weights into the map, which ours then reads.
            let config = candle_nn::Conv2dConfig { stride, padding, ..Default::default() };
            let theirs = candle_nn::conv2d(inputs, outputs, kernel, config, vb.clone()).unwrap();
            let ours = Conv::load(inputs, outputs, kernel, stride, padding, vb).unwrap();
            let values: Vec<f32> =
                (0..5 * inputs * side * side).map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0).collect();
            let x = Tensor::from_vec(values, (5, inputs, side, side), &Device::Cpu).unwrap();
            let diff = (ours.forward(&x).unwrap() - theirs.forward(&x).unwrap()).unwrap();
            let max = diff.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
            assert!(max < 1e-5, "{inputs}->{outputs} k{kernel}: max diff {max}");
        }
    }
}
