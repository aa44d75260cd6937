// Copies the new rows' keys and values into the cache's ring, at the slots after the
// survivors of the sliding window. One thread per (feature, row); dispatch (ceil(d / 64), rows).

@group(0) @binding(0) var<uniform> call: Call;
@group(0) @binding(1) var<uniform> dims: Dims;
// [rows, 3 * d]: queries, keys, values
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
// [context, d] each
@group(0) @binding(3) var<storage, read_write> keys: array<f32>;
@group(0) @binding(4) var<storage, read_write> values: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let f = id.x;
    let row = id.y;
    let d = dims.d;
    if (f >= d || row >= call.rows) {
        return;
    }
    let slot = (call.ring_start + call.past + row) % dims.context;
    keys[slot * d + f] = qkv[row * 3u * d + d + f];
    values[slot * d + f] = qkv[row * 3u * d + 2u * d + f];
}
