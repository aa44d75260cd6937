// GELU alone over the patch cells, for a model whose patch block has no GroupNorm
// (`patch_norm` off). One thread per value; dispatch (ceil(patches * channels * 16 / 64)).

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
// [patches, channels, 4, 4]
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x < call.patches * dims.channels * 16u) {
        output[id.x] = gelu(input[id.x]);
    }
}
