// A 3x3 convolution with zero padding over each patch's 4x4 cells, channels to
// channels; with RESIDUAL it adds the block's input (the pre-activation ResNet's skip).
// One thread per output value; dispatch (ceil(patches * channels * 16 / 64)).

override RESIDUAL: bool = false;

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
// [patches, channels, 4, 4]
@group(0) @binding(2) var<storage, read> input: array<f32>;
// [channels, channels, 3, 3]
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> skip: array<f32>;
@group(0) @binding(6) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let channels = dims.channels;
    let per_patch = channels * 16u;
    let i = id.x;
    if (i >= call.patches * per_patch) {
        return;
    }
    let p = i / per_patch;
    let o = (i % per_patch) / 16u;
    let y = i32((i % 16u) / 4u);
    let x = i32(i % 4u);
    var sum = 0.0;
    for (var c = 0u; c < channels; c++) {
        let plane = (p * channels + c) * 16u;
        let w = (o * channels + c) * 9u;
        for (var ky = 0; ky < 3; ky++) {
            let sy = y + ky - 1;
            if (sy < 0 || sy > 3) {
                continue;
            }
            for (var kx = 0; kx < 3; kx++) {
                let sx = x + kx - 1;
                if (sx < 0 || sx > 3) {
                    continue;
                }
                sum += weight[w + u32(ky * 3 + kx)] * input[plane + u32(sy * 4 + sx)];
            }
        }
    }
    var value = sum + bias[o];
    if (RESIDUAL) {
        value += skip[i];
    }
    output[i] = value;
}
