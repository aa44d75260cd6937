// LayerNorm over each new row: one workgroup per row; dispatch (rows).

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let d = dims.d;
    let base = wg.x * d;
    let m = moments(lid, base, d, dims.eps);
    for (var i = lid; i < d; i += 64u) {
        output[base + i] = (input[base + i] - m.x) * m.y * gamma[i] + beta[i];
    }
}
