// The patch stem: a 4x4 convolution with stride 4 from 3 colour planes of 16x16 pixels
// to `channels` planes of 4x4 cells. One thread per output value; dispatch
// (ceil(patches * channels * 16 / 64)).

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
// [patches, 3, 16, 16]
@group(0) @binding(2) var<storage, read> pixels: array<f32>;
// [channels, 3, 4, 4]
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
// [patches, channels, 4, 4]
@group(0) @binding(5) var<storage, read_write> cells: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let per_patch = dims.channels * 16u;
    let i = id.x;
    if (i >= call.patches * per_patch) {
        return;
    }
    let p = i / per_patch;
    let o = (i % per_patch) / 16u;
    let y = (i % 16u) / 4u;
    let x = i % 4u;
    var sum = 0.0;
    for (var c = 0u; c < 3u; c++) {
        for (var ky = 0u; ky < 4u; ky++) {
            let w = ((o * 3u + c) * 4u + ky) * 4u;
            let src = p * 768u + c * 256u + (4u * y + ky) * 16u + 4u * x;
            for (var kx = 0u; kx < 4u; kx++) {
                sum += weight[w + kx] * pixels[src + kx];
            }
        }
    }
    cells[i] = sum + bias[o];
}
