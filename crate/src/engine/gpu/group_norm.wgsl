// GroupNorm followed by GELU, over each patch's 4x4 cells: one workgroup per
// (group, patch); dispatch (groups, patches).

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
// [patches, channels, 4, 4]
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let per_group = dims.channels / dims.groups * 16u;
    let base = wg.y * dims.channels * 16u + wg.x * per_group;
    let m = moments(lid, base, per_group, dims.eps);
    for (var i = lid; i < per_group; i += 64u) {
        let channel = (base + i) / 16u % dims.channels;
        output[base + i] = gelu((input[base + i] - m.x) * m.y * gamma[channel] + beta[channel]);
    }
}
